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
	// HoldsOn returns the active holds that may cover an erasure of req's
	// subject within req's tenant, oldest first.
	HoldsOn(ctx context.Context, req *Request) ([]HeldBy, error)
}

// HeldBy is one legal hold as the Runner weighs it.
type HeldBy struct {
	ID string
	// Tenant is the held tenant, "" for a hold across all tenants.
	Tenant string
	// Subject is true for a hold on a person, false for one on a tenant.
	Subject bool
}

// TenantProbe tells whether a subject has records within a tenant. The
// registry engine implements it, so that a hold on one tenant denies an
// erasure across all tenants only when that erasure would touch the held
// tenant's records, not every erasure of every person.
type TenantProbe interface {
	Touches(ctx context.Context, email, tenant string) (bool, error)
}

// coveringHold returns the id of the first hold in holds that covers req,
// or "". A hold on a tenant covers an erasure across all tenants only if
// the subject has records in that tenant (asked of probe; without a probe
// it covers, the cautious answer).
func coveringHold(ctx context.Context, req *Request, holds []HeldBy, probe TenantProbe) (string, error) {
	for _, h := range holds {
		if h.Subject || h.Tenant == "" || req.Tenant != "" || probe == nil {
			return h.ID, nil
		}
		touches, err := probe.Touches(ctx, req.Email, h.Tenant)
		if err != nil {
			return "", err
		} else if touches {
			return h.ID, nil
		}
	}
	return "", nil
}

// denyHeld finishes an erasure that a legal hold covers as denied, before
// anything is touched, and reports whether it did. A hold placed after an
// attempt already changed data does not stop the erasure: stopping there
// would leave the subject half-erased with nothing left to finish it. An
// error reading the holds is returned for a retry. j is the attempt's journal.
func (r *Runner) denyHeld(ctx context.Context, req *Request, j Journal, log *slog.Logger) (bool, error) {
	if r.Holds == nil || req.Type != TypeErasure {
		return false, nil
	}
	holds, err := r.holdsOn(ctx, req)
	if err != nil {
		log.Warn("legal holds unreadable; will retry", "error", err)
		return false, errors.Join(ErrRetry, err)
	}
	probe, _ := r.Executor.(TenantProbe)
	id, err := coveringHold(ctx, req, holds, probe)
	if err != nil {
		log.Warn("legal hold check failed; will retry", "error", err)
		return false, errors.Join(ErrRetry, err)
	} else if id == "" {
		return false, nil
	}
	steps, err := j.Steps(ctx)
	if err != nil {
		return false, errors.Join(ErrRetry, err)
	} else if len(steps) > 0 {
		log.Warn("legal hold placed after the erasure started; finishing the erasure", "hold", id)
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
	r.notify(ctx, req, log)
	return true, nil
}

// SubjectFinder finds the subjects of a request filed by another identity
// than email (a phone number): the subjects of the emails enrichment
// reaches from it. The registry engine implements it, so that a legal hold
// on a person's email also covers an erasure filed by their phone.
type SubjectFinder interface {
	Subjects(ctx context.Context, req *Request) ([]Subject, error)
}

// holdsOn returns the holds on req, and for a request filed without an
// email those on the subjects the executor finds for it too.
func (r *Runner) holdsOn(ctx context.Context, req *Request) ([]HeldBy, error) {
	holds, err := r.Holds.HoldsOn(ctx, req)
	finder, ok := r.Executor.(SubjectFinder)
	if err != nil || req.Email != "" || !ok {
		return holds, err
	}
	subjects, err := finder.Subjects(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, s := range subjects {
		alias := *req
		alias.Subject = s
		more, err := r.Holds.HoldsOn(ctx, &alias)
		if err != nil {
			return nil, err
		}
		holds = append(holds, more...)
	}
	return holds, nil
}
