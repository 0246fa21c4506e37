package engine

import (
	"context"
	"errors"
	"time"
)

// ErrUnconfirmed is wrapped by ProcessorNotifier.Notify's error when the processor
// did not confirm the notice before its deadline.
var ErrUnconfirmed = errors.New("processor did not confirm before its deadline")

// ProcessorNotifier tells one processor (a downstream recipient, GDPR Art. 19) of an
// erasure.
type ProcessorNotifier interface {
	// Notify delivers n and retries with backoff until the processor
	// confirms or its deadline, counted from since (the first attempt, kept
	// in the journal across restarts), has passed. It returns the number of
	// attempts made. Errors: one wrapping ErrUnconfirmed at the deadline;
	// ctx's error when ctx ends first.
	Notify(ctx context.Context, n Notice, since time.Time) (attempts int, err error)
}

// Notice is what a processor is told: which request, and the identities it
// may hold the subject's data under.
type Notice struct {
	RequestID string `json:"request_id"`
	Type      string `json:"type"` // "erasure"
	Tenant    string `json:"tenant,omitempty"`
	// Identities maps "email" and identity collections' primary keys
	// ("<store>.<collection>.<column>") to the subject's values.
	Identities map[string][]string `json:"identities"`
}
