package opendsr

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Enqueuer queues work inside the transaction of a state change, so that
// neither is stored without the other.
type Enqueuer func(ctx context.Context, tx *sql.Tx) error

// CallbackJob is one durable callback: the statuses a request passed
// through, in order, to POST to one status_callback_url.
type CallbackJob struct {
	SubjectRequestID string   `json:"subject_request_id"`
	URL              string   `json:"url"`
	Statuses         []string `json:"statuses"`
}

// EnqueueCallbacks queues jobs inside tx (pkg/queue implements it).
type EnqueueCallbacks func(ctx context.Context, tx *sql.Tx, jobs []CallbackJob) error

// scanBatch is how many changed requests one Scan handles.
const scanBatch = 200

// Scan finds requests whose status changed since their callbacks were
// queued and queues, for each status_callback_url, one job carrying the
// statuses passed through: in the transaction that records them as
// notified, so a stop between the change and the send loses nothing
// (§8.5: callbacks MUST be invoked on every state change). It returns how
// many requests advanced.
func (s *Service) Scan(ctx context.Context, enqueue EnqueueCallbacks) (int, error) {
	changes, err := s.Store.Changes(ctx, scanBatch)
	if err != nil {
		return 0, err
	}
	for _, ch := range changes {
		rec := ch.Record
		statuses := Transitions(rec.Notified, ch.Status, ch.Started)
		var jobs []CallbackJob
		if len(statuses) > 0 {
			for _, u := range rec.CallbackURLs {
				jobs = append(jobs, CallbackJob{SubjectRequestID: rec.SubjectRequestID, URL: u, Statuses: statuses})
			}
		}
		err := s.Store.Advance(ctx, rec.SubjectRequestID, rec.Notified, ch.Status, func(ctx context.Context, tx *sql.Tx) error {
			if len(jobs) == 0 {
				return nil
			}
			return enqueue(ctx, tx, jobs)
		})
		if err != nil {
			return 0, fmt.Errorf("opendsr: queue callbacks: %w", err)
		}
	}
	return len(changes), nil
}

// Watch runs Scan every interval until ctx ends. Every replica may run
// it: Advance moves a record only from the status it read, so two scans
// never queue the same callbacks twice.
func (s *Service) Watch(ctx context.Context, every time.Duration, enqueue EnqueueCallbacks) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Scan(ctx, enqueue); err != nil && ctx.Err() == nil {
			s.Logger.Warn("opendsr: callback scan failed; next scan retries", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
