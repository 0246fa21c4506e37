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

// Sweep is the periodic clean-up, run on the leader: it resends closing
// notices that failed (the addresses then leave the outbox), cancels
// requests whose code expired unused (forgetting their addresses), and
// drops expired links and rate-limit counters. It returns the first error
// of each part, joined; a notice that fails again stays for the next sweep.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	var errs []error
	pending, err := s.Store.PendingNotices(ctx, now.Add(-noticeGrace), sweepBatch)
	errs = append(errs, err)
	for _, n := range pending {
		if err := s.notify(ctx, n); err != nil {
			s.Logger.Warn("self-service notice failed again; kept for the next sweep", "request", n.Request.ID, "error", err)
			errs = append(errs, err)
			break // the mail server is probably down: try the rest next time
		}
	}
	if n, err := s.Store.ExpireUnverified(ctx, now, sweepBatch); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		s.Logger.Info("self-service requests never verified: cancelled", "count", n)
	}
	errs = append(errs, s.Store.PruneLinks(ctx, now), s.Store.PruneLimits(ctx, now.Add(-s.Limits.window())))
	return errors.Join(errs...)
}
