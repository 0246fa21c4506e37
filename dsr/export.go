package dsr

import (
	"context"
	"io"
	"time"
)

// DefaultExportTTL is how long an access package can be downloaded.
const DefaultExportTTL = 7 * 24 * time.Hour

// Export is a stored access package (GDPR Art. 15, 20): an encrypted ZIP
// in the export bucket, downloadable until ExpiresAt.
type Export struct {
	RequestID string     `json:"request_id"`
	Tenant    string     `json:"tenant"`
	Object    string     `json:"-"` // the key in the export bucket
	Size      int64      `json:"size"`
	Entries   int        `json:"entries"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// ErasedBy is the erasure that deleted the package with the rest of
	// its person's data; "" when it expired or still exists.
	ErasedBy string `json:"erased_by,omitempty"`
	// KeyID is the fingerprint (KeyID) of the export key the package is
	// encrypted with; "" for packages made before it was recorded.
	KeyID string `json:"-"`
}

// ExportStore records access packages in Lethe's state store.
type ExportStore interface {
	// SaveExport records e, replacing the record of the same request.
	SaveExport(ctx context.Context, e *Export) error
	// GetExport returns the record of request id, or ENOTFOUND.
	GetExport(ctx context.Context, requestID string) (*Export, error)
	// ExpiredExports returns up to limit records not yet deleted whose
	// ExpiresAt is not after now, oldest first.
	ExpiredExports(ctx context.Context, now time.Time, limit int) ([]*Export, error)
	// MarkExportDeleted records that the package of request id is gone.
	MarkExportDeleted(ctx context.Context, requestID string, at time.Time) error
}

// ExportService serves access packages to the API.
type ExportService interface {
	// Open returns the package of request id, decrypted, for a caller who
	// can see the request. ENOTFOUND for a request that does not exist or
	// that the caller may not see; ECONFLICT when the request is not an
	// access request, is not completed, or its package has expired; EGONE
	// when an erasure of its person deleted the package.
	Open(ctx context.Context, c Caller, id string) (*Export, io.ReadCloser, error)
}
