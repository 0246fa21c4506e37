package dsr

import (
	"context"
	"time"
)

// Caller is who makes a call: the admin, or a tenant key that sees only its
// own tenant. The zero Caller is anonymous and may do nothing.
type Caller struct {
	Admin  bool
	Tenant string // set for tenant keys and console owners
	KeyID  string // the tenant key's id, for the audit trail
	// Owner is the subject (the HMAC of the address) of a studio owner
	// signed in to the console, for the audit trail; "" otherwise.
	Owner Subject
}

// Actor names the caller in the audit trail.
func (c Caller) Actor() string {
	switch {
	case c.Admin:
		return "admin"
	case c.Tenant != "" && c.Owner != "":
		return "owner:" + string(c.Owner)
	case c.Tenant != "":
		return "key:" + c.KeyID
	}
	return "anonymous"
}

// CanSee reports whether c may see or act on something of tenant t.
func (c Caller) CanSee(t string) bool { return c.Admin || (c.Tenant != "" && c.Tenant == t) }

// NewRequest is the input of RequestService.Create.
type NewRequest struct {
	Type   Type
	Email  string
	Tenant string
	// Identities names the person by other identities than Email, by type
	// ("phone": "+44 7700 900123"); an "email" entry stands for Email.
	Identities map[string]string
	// IdempotencyKey, when set, makes a repeated Create by the same caller
	// return the request the first call created.
	IdempotencyKey string
	// Source names the way in other than the API, such as SourceOpenDSR;
	// "" for the API itself.
	Source string
}

// Request sources: SourceAPI selects, in a RequestFilter, the requests
// filed through the API (stored with Source ""); SourceOpenDSR marks those
// an OpenDSR controller filed.
const (
	SourceAPI     = "api"
	SourceOpenDSR = "opendsr"
)

// RequestFilter selects requests in List. Zero fields do not filter.
type RequestFilter struct {
	Status  Status
	Type    Type
	Tenant  string
	Overdue bool
	// Source selects requests by how they came in: SourceAPI or a way in
	// such as SourceOpenDSR.
	Source string
	Cursor string
	Limit  int
}

// RequestPage is one page of a listing; NextCursor is "" on the last page.
type RequestPage struct {
	Items      []*Request
	NextCursor string
}

// RequestService is what the HTTP API and the CLI use to file and follow
// requests. Every method enforces the caller's tenant: a request of another
// tenant answers ENOTFOUND, exactly as one that does not exist.
type RequestService interface {
	// Create validates and files a request, enqueues it and returns it with
	// created=true, or the earlier request for a repeated IdempotencyKey with
	// created=false. EUNPROCESSABLE for a bad type, email or tenant;
	// ECONFLICT for an IdempotencyKey reused with a different body.
	Create(ctx context.Context, c Caller, in NewRequest) (r *Request, created bool, err error)
	// Get returns one request, or ENOTFOUND.
	Get(ctx context.Context, c Caller, id string) (*Request, error)
	// List returns requests newest first; EINVALID for a tampered cursor.
	List(ctx context.Context, c Caller, f RequestFilter) (*RequestPage, error)
	// Cancel cancels a request not yet running with reason, which the
	// person is told (see CheckCancelReason for EUNPROCESSABLE); ECONFLICT
	// once it runs or ended.
	Cancel(ctx context.Context, c Caller, id, reason string) (*Request, error)
	// Extend moves the deadline by days (total ≤ 60) with a reason;
	// EUNPROCESSABLE past the limit or without a reason, ECONFLICT once ended.
	Extend(ctx context.Context, c Caller, id string, days int, reason string) (*Request, error)
	// Approve lets a request waiting in StatusAwaitingApproval run: it
	// becomes pending and is queued. ECONFLICT for any other status.
	Approve(ctx context.Context, c Caller, id string) (*Request, error)
	// Deny ends a request waiting in StatusAwaitingApproval as
	// StatusDenied with reason, which the person is told (see
	// CheckDenialReason for EUNPROCESSABLE). ECONFLICT for any other status.
	Deny(ctx context.Context, c Caller, id, reason string) (*Request, error)
}

// IdentityNormalizer normalises an identity a request is filed with by
// the registry's rules (an E.164 phone number, a trimmed id): what the
// registry implements. Errors are EUNPROCESSABLE *Error naming the type,
// never the value.
type IdentityNormalizer interface {
	NormalizeIdentity(kind, raw string) (string, error)
}

// Clock returns the current time; injected so deadline tests do not sleep.
type Clock func() time.Time
