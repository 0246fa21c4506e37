package dsr

import "context"

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
