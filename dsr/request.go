package dsr

import (
	"regexp"
	"time"
)

// Type is the kind of a data-subject request.
type Type string

// Request types.
const (
	TypeAccess  Type = "access"  // GDPR Art. 15 and 20
	TypeErasure Type = "erasure" // GDPR Art. 17
)

// Valid reports whether t is a known request type.
func (t Type) Valid() bool { return t == TypeAccess || t == TypeErasure }

// Status is where a request stands in its lifecycle: received →
// (verifying) → (awaiting_approval) → pending → running → completed |
// failed | cancelled | denied.
type Status string

// Request statuses.
const (
	StatusReceived  Status = "received"
	StatusVerifying Status = "verifying"
	// StatusAwaitingApproval: the review gate holds the request, with its
	// plan, until an owner or the admin approves or denies it.
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusPending          Status = "pending"
	StatusRunning          Status = "running"
	StatusCompleted        Status = "completed"
	StatusFailed           Status = "failed"
	StatusCancelled        Status = "cancelled"
	StatusDenied           Status = "denied"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusReceived, StatusVerifying, StatusAwaitingApproval, StatusPending, StatusRunning,
	StatusCompleted, StatusFailed, StatusCancelled, StatusDenied}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether no further transition can leave s.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled || s == StatusDenied
}

// Cancellable reports whether a request in status s may still be cancelled:
// only before its execution starts.
func (s Status) Cancellable() bool {
	return s == StatusReceived || s == StatusVerifying || s == StatusAwaitingApproval || s == StatusPending
}

// Deadlines (GDPR Art. 12(3)): one month, extendable by two more.
const (
	ResponseWindow = 30 * 24 * time.Hour
	MaxExtension   = 60 * 24 * time.Hour
)

// Request is one data-subject request. Email is held only while the request
// needs it; everything that leaves Lethe names the person by Subject.
type Request struct {
	ID     string
	Type   Type
	Status Status
	Tenant string // "" for a request across all tenants (admin only)
	Email  string // normalised; never logged
	// Identities holds the other identities the request was filed with,
	// normalised, by type ("phone", "user_id", ...): held and forgotten
	// with Email, never logged.
	Identities map[string]string
	Subject    Subject
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DueAt      time.Time
	// ExtendedDays is the total extension granted so far, at most 60.
	ExtendedDays    int
	ExtensionReason string
	StartedAt       *time.Time
	FinishedAt      *time.Time
	Counts          map[string]int64 // "<store>.<collection>" → rows touched
	Verification    *Verification
	Err             *Error // why the request failed, cancelled or was denied
	Attempts        int
	// Source is how the request came in: "" through the API, or a way in
	// such as SourceOpenDSR.
	Source string
	// Review is the review gate's record: the plan a held request was
	// filed with and who approved it; nil for a request never held.
	Review *Review
}

// Verification is the outcome of re-walking the registry after an erasure.
type Verification struct {
	Passed    bool             `json:"passed"`
	Remaining int64            `json:"remaining"`
	Found     map[string]int64 `json:"found,omitempty"`
}

// Overdue reports whether r is still open past its deadline at now.
func (r *Request) Overdue(now time.Time) bool {
	return !r.Status.Terminal() && now.After(r.DueAt)
}

var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateTenant returns an EUNPROCESSABLE *Error unless t is a tenant name:
// 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidateTenant(t string) error {
	if !tenantRE.MatchString(t) {
		return Errorf(EUNPROCESSABLE, "tenant: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return nil
}
