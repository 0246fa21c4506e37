package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
)

// CopyRecords is what Copies needs of the state store (pkg/state's Copies
// implements it).
type CopyRecords interface {
	SubjectExports(ctx context.Context, s dsr.CopyScope) ([]*dsr.Export, error)
	MarkExportErased(ctx context.Context, id, erasedBy string, at time.Time) error
	ForgetSubject(ctx context.Context, s dsr.CopyScope) (int64, error)
	HeldAddresses(ctx context.Context, s dsr.CopyScope) (map[string]int64, error)
}

// Copies implements dsr.Copies: an erasure deletes the person's access
// packages from the export bucket (their records stay, marked, so that a
// link answers why it stopped working) and their self-service rows from
// the state store; its verification finds any package or address left.
type Copies struct {
	// Bucket is the export bucket; nil when packages are not configured,
	// then only the state store is searched.
	Bucket  *blob.Bucket
	Records CopyRecords
	Now     func() time.Time
}

var _ dsr.Copies = (*Copies)(nil)

// EraseCopies implements dsr.Copies. Errors: the bucket's as EUNAVAILABLE
// (the erasure is retried), the store's.
// errNoBucket is why a package cannot be deleted by a process that has no
// export bucket open.
var errNoBucket = errors.New("no export bucket is open in this process")

func (c *Copies) EraseCopies(ctx context.Context, s dsr.CopyScope) (map[string]int64, error) {
	list, err := c.Records.SubjectExports(ctx, s)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, e := range list {
		switch {
		case c.Bucket != nil:
			if err := c.Bucket.Delete(ctx, e.Object); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return nil, unavailable(fmt.Sprintf("delete the package of request %s", e.RequestID), err)
			}
		case e.DeletedAt == nil:
			// Never mark a package erased that is still in the bucket: the
			// expiry sweep would not look at it again.
			return nil, unavailable(fmt.Sprintf("delete the package of request %s", e.RequestID), errNoBucket)
		}
		if e.DeletedAt == nil {
			if err := c.Records.MarkExportErased(ctx, e.RequestID, s.RequestID, c.now()); err != nil {
				return nil, err
			}
			out["lethe.exports"]++
		}
	}
	n, err := c.Records.ForgetSubject(ctx, s)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		out["lethe.self_requests"] = n
	}
	return out, nil
}

// FindCopies implements dsr.Copies: a package record not marked deleted,
// or a package object still in the bucket, counts under "lethe.exports".
func (c *Copies) FindCopies(ctx context.Context, s dsr.CopyScope) (map[string]int64, error) {
	out, err := c.Records.HeldAddresses(ctx, s)
	if err != nil {
		return nil, err
	}
	list, err := c.Records.SubjectExports(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		left := e.DeletedAt == nil
		if !left && c.Bucket != nil {
			if left, err = c.Bucket.Exists(ctx, e.Object); err != nil {
				return nil, unavailable(fmt.Sprintf("look for the package of request %s", e.RequestID), err)
			}
		}
		if left {
			out["lethe.exports"]++
		}
	}
	return out, nil
}

func (c *Copies) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
