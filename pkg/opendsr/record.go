package opendsr

import (
	"context"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Record is the OpenDSR side of a request, kept in Lethe's state store. It
// holds no identity: the address lives, while needed, in Lethe's request.
type Record struct {
	SubjectRequestID string
	// RequestID is Lethe's request; "" when a hashed identity matched no
	// address held, which completes at once with nothing found.
	RequestID    string
	Tenant       string // the tenant of the key that filed it; "" for the admin
	ControllerID string
	Type         string // access, portability or erasure, as the controller sent it
	Regulation   string
	Legacy       bool // filed on an OpenGDPR route: answered and called back with X-OpenGDPR-* headers
	CallbackURLs []string
	ReceivedAt   time.Time
	ExpectedAt   time.Time
	// Notified is the Lethe status whose OpenDSR statuses have been queued
	// for the callbacks; "" before the first.
	Notified dsr.Status
}

// Change is a record whose request moved since its callbacks were queued.
type Change struct {
	Record  *Record
	Status  dsr.Status // the Lethe request's status now (completed when there is none)
	Started bool       // whether the request ever ran
}

// Store keeps Records in Lethe's state store.
type Store interface {
	// Insert stores r unless a record with its SubjectRequestID exists, and
	// returns the stored record and whether it is r.
	Insert(ctx context.Context, r *Record) (*Record, bool, error)
	// Get returns the record of a subject_request_id, or ENOTFOUND.
	Get(ctx context.Context, id string) (*Record, error)
	// Changes returns up to limit records whose request's status differs
	// from the one last notified.
	Changes(ctx context.Context, limit int) ([]Change, error)
	// Advance moves a record's notified status from `from` to `to` and, in
	// the same transaction, calls enqueue to queue the callbacks; it does
	// nothing when another scan advanced it first.
	Advance(ctx context.Context, id string, from, to dsr.Status, enqueue Enqueuer) error
}

// StatusOf maps a Lethe status onto §8: the statuses before execution are
// pending, running is in_progress. A request that failed or was denied
// (a legal hold) will not be fulfilled and is reported cancelled; the
// reason is in Lethe's request.
func StatusOf(s dsr.Status) string {
	switch s {
	case dsr.StatusRunning:
		return StatusInProgress
	case dsr.StatusCompleted:
		return StatusCompleted
	case dsr.StatusCancelled, dsr.StatusFailed, dsr.StatusDenied:
		return StatusCancelled
	}
	return StatusPending
}

// Transitions lists the OpenDSR statuses to report, in order, when a
// request moved from Lethe status prev ("" for a new record) to cur:
// every status it passed through, so a controller sees in_progress even
// when the request ran between two scans.
func Transitions(prev, cur dsr.Status, started bool) []string {
	order := []string{StatusPending}
	if started {
		order = append(order, StatusInProgress)
	}
	if last := StatusOf(cur); last != StatusPending && last != StatusInProgress {
		order = append(order, last)
	}
	from := -1
	if prev != "" {
		from = indexOf(order, StatusOf(prev))
	}
	to := indexOf(order, StatusOf(cur))
	if to <= from {
		return nil
	}
	return order[from+1 : to+1]
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
