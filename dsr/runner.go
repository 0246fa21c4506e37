package dsr

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ExecutionStore is the privileged side of the request store that only the Runner
// holds: it moves requests through execution. The API's RequestService
// cannot reach it.
type ExecutionStore interface {
	// Load returns a request by id without a tenant check, or ENOTFOUND.
	Load(ctx context.Context, id string) (*Request, error)
	// Start marks a pending (or, on a retry, running) request as running and
	// counts the attempt; ECONFLICT when the request is already terminal. It
	// returns the request's journal for this attempt, which may know what
	// Start read (on a first attempt, that nothing is journaled yet) and
	// so need not read it again.
	Start(ctx context.Context, id string, now time.Time) (*Request, Journal, error)
	// Finish records the end of a request and appends ev to the audit trail
	// in the same transaction.
	Finish(ctx context.Context, r *Request, ev AuditEvent) error
	// Journal returns the journal of request id.
	Journal(id string) Journal
}

// JournalFinisher is an ExecutionStore that records a request's end with
// what the attempt's journal holds (see Flusher), in the same statement or
// transaction, and stores those writes only with the end: an attempt that
// is no longer the request's stores neither.
type JournalFinisher interface {
	// FinishJournal is Finish, storing with the end what j holds; j is
	// the journal Start returned for this attempt.
	FinishJournal(ctx context.Context, r *Request, ev AuditEvent, j Journal) error
}

// Runner executes queued requests: it is what a queue worker calls.
type Runner struct {
	Store    ExecutionStore
	Executor Executor
	Now      Clock
	Logger   *slog.Logger
	// Holds, when set, denies erasures that a legal hold covers.
	Holds HoldChecker
	// Observer, when set, is told of every request the Runner ends.
	Observer EndObserver
}

// ErrRetry wraps the error of an attempt that should be tried again.
var ErrRetry = errors.New("retry")

// ErrTakenOver is returned by a ExecutionStore or Journal when another process
// has since started the request (this one stalled past its heartbeat and
// its work was resumed elsewhere): the attempt stops at once and is not
// retried, so one request never runs twice at once.
var ErrTakenOver = errors.New("request taken over by another process")

// Run executes request id. finalAttempt says whether the queue will give up
// after this attempt. It returns nil when the request reached a terminal
// status (completed, failed, or found cancelled), and an error wrapping
// ErrRetry when the attempt failed in a way worth retrying.
func (r *Runner) Run(ctx context.Context, id string, finalAttempt bool) error {
	req, j, err := r.Store.Start(ctx, id, r.Now())
	if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
		r.Logger.Info("request not runnable", "request", id, "reason", ErrorMessage(err))
		return nil
	} else if err != nil {
		return errors.Join(ErrRetry, err)
	}
	log := r.Logger.With("request", req.ID, "type", req.Type, "subject", req.Subject)
	log.Info("request started", "attempt", req.Attempts)

	if denied, err := r.denyHeld(ctx, req, j, log); denied || err != nil {
		return err
	}
	out, err := r.Executor.Execute(ctx, req, j)
	if errors.Is(err, ErrTakenOver) {
		log.Warn("request taken over by another process; this attempt stops", "error", err)
		return nil
	}
	retryable := err != nil && (ErrorCode(err) == EUNAVAILABLE || ErrorCode(err) == EINTERNAL)
	if retryable && !finalAttempt {
		log.Warn("request attempt failed; will retry", "code", ErrorCode(err), "error", err)
		return errors.Join(ErrRetry, err)
	}
	now := r.Now()
	req.FinishedAt = &now
	details := map[string]any{"type": req.Type, "attempts": req.Attempts}
	switch {
	case err != nil:
		req.Status = StatusFailed
		req.Err = &Error{Code: ErrorCode(err), Message: ErrorMessage(err)}
		if ErrorCode(err) == EINTERNAL {
			req.Err.Message = "internal error after retries; see the service log"
		}
		log.Error("request failed", "code", req.Err.Code, "error", err)
	case out.Verification != nil && !out.Verification.Passed:
		req.Status, req.Counts, req.Verification = StatusFailed, out.Counts, out.Verification
		req.Err = Errorf(ECONFLICT, "verification found %d records still tied to the subject", out.Verification.Remaining)
		log.Error("request failed verification", "remaining", out.Verification.Remaining)
	default:
		req.Status, req.Counts, req.Verification = StatusCompleted, out.Counts, out.Verification
		log.Info("request completed")
	}
	details["status"], details["counts"], details["verification"] = req.Status, req.Counts, req.Verification
	if req.Err != nil {
		details["error"] = req.Err
	}
	if out != nil {
		for k, v := range out.Details {
			details[k] = v
		}
	}
	ev := AuditEvent{Actor: "lethe", Action: "request." + string(req.Status), RequestID: req.ID,
		Tenant: req.Tenant, Subject: req.Subject, Details: details}
	// What the journal holds (steps saved Later: the verification's, or
	// what a failed attempt did) is stored with the end, or before it.
	finish := func() error { return r.Store.Finish(ctx, req, ev) }
	if f, ok := r.Store.(JournalFinisher); ok {
		finish = func() error { return f.FinishJournal(ctx, req, ev, j) }
	} else if f, ok := j.(Flusher); ok {
		// A journal taken over writes nothing (its writes are fenced);
		// Finish then says so.
		if err := f.Flush(ctx); err != nil {
			return errors.Join(ErrRetry, err)
		}
	}
	if err := finish(); errors.Is(err, ErrTakenOver) {
		log.Warn("request taken over by another process; this attempt's end is not recorded", "error", err)
		return nil
	} else if err != nil {
		return errors.Join(ErrRetry, err)
	}
	r.notify(ctx, req, log)
	return nil
}

// notify tells the EndObserver that req has ended; its failure is only logged,
// as the request's end is already stored.
func (r *Runner) notify(ctx context.Context, req *Request, log *slog.Logger) {
	if r.Observer == nil {
		return
	}
	if err := r.Observer.RequestEnded(ctx, req); err != nil {
		log.Warn("end-of-request notice not sent", "error", err)
	}
}
