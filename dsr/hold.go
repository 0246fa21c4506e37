package dsr

import (
	"context"
	"errors"
	"log/slog"
)

// HoldChecker tells whether a legal hold covers a request: while one does,
// an erasure is denied (GDPR Art. 17(3)(e)). pkg/state implements it over
// the holds that retention also honours.
type HoldChecker interface {
	// HoldOn returns the id of an active hold covering an erasure of req's
	// subject within req's tenant, or "" when none does.
	HoldOn(ctx context.Context, req *Request) (string, error)
}

// denyHeld finishes an erasure that a legal hold covers as denied, before
// anything is touched, and reports whether it did. An error reading the
// holds is returned for a retry.
func (r *Runner) denyHeld(ctx context.Context, req *Request, log *slog.Logger) (bool, error) {
	if r.Holds == nil || req.Type != TypeErasure {
		return false, nil
	}
	id, err := r.Holds.HoldOn(ctx, req)
	if err != nil {
		log.Warn("legal holds unreadable; will retry", "error", err)
		return false, errors.Join(ErrRetry, err)
	} else if id == "" {
		return false, nil
	}
	now := r.Now()
	req.Status, req.FinishedAt = StatusDenied, &now
	req.Err = Errorf(ECONFLICT, "legal hold %s covers this subject or tenant: the erasure is refused until the hold is released", id)
	log.Info("request denied: legal hold", "hold", id)
	ev := AuditEvent{Actor: "lethe", Action: "request.denied", RequestID: req.ID, Tenant: req.Tenant, Subject: req.Subject,
		Details: map[string]any{"type": req.Type, "hold": id, "error": req.Err}}
	if err := r.Store.Finish(ctx, req, ev); err != nil {
		return true, errors.Join(ErrRetry, err)
	}
	return true, nil
}
