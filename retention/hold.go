package retention

import (
	"context"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Hold is a legal hold: while it is active, the rows of its tenant, or of
// its subject (within its tenant when both are set), are neither purged by
// retention nor erased (GDPR Art. 17(3)(e)).
type Hold struct {
	ID      string      `json:"id"`
	Tenant  string      `json:"tenant,omitempty"`
	Subject dsr.Subject `json:"subject,omitempty"`
	// Email finds the subject's rows; kept only while the hold is active
	// and never shown.
	Email      string     `json:"-"`
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	ReleasedAt *time.Time `json:"released_at"`
	ReleasedBy string     `json:"released_by,omitempty"`
}

// Active reports whether h is not released.
func (h *Hold) Active() bool { return h.ReleasedAt == nil }

// NewHold is the input of HoldStore.CreateHold.
type NewHold struct {
	Tenant string
	Email  string
	Reason string
}

// Check validates and normalises in and returns the hold to store, with
// the subject hashed by hasher. Errors: EUNPROCESSABLE when neither tenant
// nor email is given, either is malformed, or the reason is missing or
// longer than 1000 characters.
func (in NewHold) Check(hasher *dsr.SubjectHasher) (*Hold, error) {
	h := &Hold{Tenant: strings.TrimSpace(in.Tenant), Reason: strings.TrimSpace(in.Reason)}
	if h.Tenant == "" && strings.TrimSpace(in.Email) == "" {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "hold: give a tenant, an email, or both")
	}
	if h.Tenant != "" {
		if err := dsr.ValidateTenant(h.Tenant); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(in.Email) != "" {
		email, err := dsr.NormalizeEmail(in.Email)
		if err != nil {
			return nil, err
		}
		h.Email, h.Subject = email, hasher.Subject(email)
	}
	if h.Reason == "" {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "reason: required; say why the data must be kept (a case or claim reference)")
	} else if len(h.Reason) > 1000 {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "reason: at most 1000 characters")
	}
	return h, nil
}

// Covers reports whether h, an active hold, covers an erasure of subject
// within tenant ("" for every tenant). A tenant hold covers every erasure
// that may touch the tenant's rows, which includes one across all tenants.
func (h *Hold) Covers(subject dsr.Subject, tenant string) bool {
	if !h.Active() {
		return false
	}
	tenantMatch := h.Tenant == "" || tenant == "" || h.Tenant == tenant
	if h.Subject != "" {
		return h.Subject == subject && tenantMatch
	}
	return tenantMatch
}

// HoldStore keeps legal holds in Lethe's state.
type HoldStore interface {
	// CreateHold stores h with a new id and appends an audit entry in the
	// same transaction.
	CreateHold(ctx context.Context, actor string, h *Hold) (*Hold, error)
	// ReleaseHold releases hold id, forgets its email and appends an audit
	// entry. ENOTFOUND for no such hold, ECONFLICT when already released.
	ReleaseHold(ctx context.Context, actor, id string) (*Hold, error)
	// Holds returns the holds, newest first; only active ones with active.
	// Active subject holds carry their Email.
	Holds(ctx context.Context, active bool) ([]*Hold, error)
}
