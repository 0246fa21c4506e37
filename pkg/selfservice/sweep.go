package selfservice

import (
	"context"
	"errors"
	"time"
)

// sweepBatch bounds each part of one Sweep.
const sweepBatch = 100

// noticeGrace leaves a just-ended request to the Runner's own notice
// before the sweep resends it.
const noticeGrace = time.Minute

// noticeGiveUp is how long after its request ended an unsent notice is
// retried; then its address is forgotten (the outbox keeps no one for ever).
const noticeGiveUp = 7 * 24 * time.Hour

// maxFailuresInARow ends a sweep's resends: the mail server is down.
const maxFailuresInARow = 3

// Sweep is the periodic clean-up, run on the leader: it resends closing
// notices that failed (the addresses then leave the outbox), cancels
// requests whose code expired unused (forgetting their addresses), and
// drops expired links and rate-limit counters. It returns the first error
// of each part, joined; a notice that fails again stays for the next sweep.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	var errs []error
	if n, err := s.Store.AbandonNotices(ctx, now.Add(-noticeGiveUp)); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		s.Logger.Warn("self-service notices never accepted: addresses forgotten", "count", n)
	}
	pending, err := s.Store.PendingNotices(ctx, now.Add(-noticeGrace), sweepBatch)
	errs = append(errs, err)
	failed := 0
	for _, n := range pending {
		if err := s.notify(ctx, n); err != nil {
			s.Logger.Warn("self-service notice failed again; kept for the next sweep", "request", n.Request.ID, "error", err)
			errs = append(errs, err)
			// One refusing mailbox must not hold back the others; several
			// failures in a row mean the mail server is down.
			if failed++; failed == maxFailuresInARow {
				break
			}
			continue
		}
		failed = 0
	}
	if n, err := s.Store.ExpireUnverified(ctx, now, sweepBatch); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		s.Logger.Info("self-service requests never verified: cancelled", "count", n)
	}
	errs = append(errs, s.Store.PruneLinks(ctx, now), s.Store.PruneLimits(ctx, now.Add(-max(s.Limits.window(), s.Limits.failureWindow()))))
	return errors.Join(errs...)
}
