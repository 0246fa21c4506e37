package dsr

import (
	"context"
	"errors"
)

// Notifier is told that a request has ended, after its end is stored
// (RunStore.Finish) and so after the email column is cleared: whatever a
// Notifier needs to reach the person it must have kept itself, durably, such
// as the self-service outbox does. The Runner calls it for every terminal
// status it records (completed, failed, denied).
type Notifier interface {
	// RequestEnded acts on the end of r. An error is logged by the Runner
	// and never changes the request; the Notifier retries on its own.
	RequestEnded(ctx context.Context, r *Request) error
}

// Notifiers tells each of its Notifiers in turn; one's failure does not
// keep the next from being told. It returns the failures joined.
type Notifiers []Notifier

// RequestEnded implements Notifier.
func (ns Notifiers) RequestEnded(ctx context.Context, r *Request) error {
	var errs []error
	for _, n := range ns {
		if n != nil {
			errs = append(errs, n.RequestEnded(ctx, r))
		}
	}
	return errors.Join(errs...)
}
