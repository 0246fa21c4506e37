package state

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// hold asks the review gate about row, a request about to be filed: when
// the gate holds it, row becomes awaiting_approval with its plan and hold
// reports true; the caller then does not queue it. A request filed by
// another identity than email is held by the same rule.
func (s *RequestService) hold(ctx context.Context, row *requestRow) (bool, error) {
	if s.Gate == nil {
		return false, nil
	}
	email := ""
	if row.Email != nil {
		email = *row.Email
	}
	review, err := s.Gate.Hold(ctx, dsr.Type(row.Type), email, row.Tenant)
	if err != nil || review == nil {
		return false, err
	}
	row.held(review)
	return true, nil
}

// held makes r wait for approval with review's plan.
func (r *requestRow) held(review *dsr.Review) {
	r.Status, r.Plan = string(dsr.StatusAwaitingApproval), strPtr(string(review.Plan))
}

// Approve implements dsr.RequestService: the request becomes pending and
// is queued in the same transaction.
func (s *RequestService) Approve(ctx context.Context, c dsr.Caller, id string) (*dsr.Request, error) {
	details := map[string]any{}
	change := func(r *requestRow, now time.Time) error {
		if err := awaiting(r); err != nil {
			return err
		}
		actor := c.Actor()
		details["type"] = r.Type
		r.Status, r.ApprovedBy, r.ApprovedAt = string(dsr.StatusPending), &actor, &now
		return nil
	}
	enqueue := func(tx *gorm.DB, r *requestRow) error {
		sqlTx, err := SQLTx(tx)
		if err != nil {
			return err
		}
		return s.Enqueue(ctx, sqlTx, r.ID)
	}
	return s.updateThen(ctx, c, id, "request.approved", details, change, enqueue)
}

// Deny implements dsr.RequestService. The reason is kept as the request's
// error message, which the self-service closing notice and the console
// show, and in the audit entry.
func (s *RequestService) Deny(ctx context.Context, c dsr.Caller, id, reason string) (*dsr.Request, error) {
	reason, err := dsr.CheckDenialReason(reason)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"reason": reason}
	return s.update(ctx, c, id, "request.denied", details, func(r *requestRow, now time.Time) error {
		if err := awaiting(r); err != nil {
			return err
		}
		details["type"] = r.Type
		r.Status, r.FinishedAt = string(dsr.StatusDenied), &now
		r.ErrorCode, r.ErrorMessage = strPtr(dsr.EFORBIDDEN), strPtr(reason)
		r.Email, r.Identities = nil, nil // nothing will be done for this person
		return nil
	})
}

// awaiting returns ECONFLICT unless r waits for approval.
func awaiting(r *requestRow) error {
	if r.Status != string(dsr.StatusAwaitingApproval) {
		return dsr.Errorf(dsr.ECONFLICT, "request is %s; only a request awaiting approval can be approved or denied", r.Status)
	}
	return nil
}
