package dsr

import (
	"context"
	"errors"
	"log/slog"
)

// EndObserver is told that a request has ended, after its end is stored
// (ExecutionStore.Finish) and so after the email column is cleared: whatever a
// EndObserver needs to reach the person it must have kept itself, durably, such
// as the self-service outbox does. The Runner calls it for every terminal
// status it records (completed, failed, denied).
type EndObserver interface {
	// RequestEnded acts on the end of r. An error is logged by the Runner
	// and never changes the request; the EndObserver retries on its own.
	RequestEnded(ctx context.Context, r *Request) error
}

// EndObservers tells each of its EndObservers in turn; one's failure does not
// keep the next from being told. It returns the failures joined.
type EndObservers []EndObserver

// RequestEnded implements EndObserver.
func (ns EndObservers) RequestEnded(ctx context.Context, r *Request) error {
	var errs []error
	for _, n := range ns {
		if n != nil {
			errs = append(errs, n.RequestEnded(ctx, r))
		}
	}
	return errors.Join(errs...)
}

// TellEnded tells obs, when there is one, of r, which a person ended
// outside a run (a denial, a cancellation), so that its person is told why.
// A failure is logged and left to the observer's own retries (the outbox).
func TellEnded(ctx context.Context, obs EndObserver, log *slog.Logger, r *Request) {
	if obs == nil {
		return
	}
	if err := obs.RequestEnded(ctx, r); err != nil {
		log.Warn("closing notice not sent yet; the outbox retries", "request", r.ID, "status", r.Status, "error", err)
	}
}
