package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// ExecutionStore implements dsr.ExecutionStore: the privileged side of the request
// store, held only by the dsr.Runner.
type ExecutionStore struct {
	DB       *DB
	Audit    *AuditLog
	Requests *RequestService
	// Process is the id of this lethe serve process (see Processes), kept
	// in the requests it starts; "" (one-shot use, tests) fences nothing.
	// When another process has since started a request, this one's journal
	// writes and finish fail with dsr.ErrTakenOver.
	Process string
}

var _ dsr.ExecutionStore = (*ExecutionStore)(nil)

// Load implements dsr.ExecutionStore.
func (s *ExecutionStore) Load(ctx context.Context, id string) (*dsr.Request, error) {
	row, err := s.Requests.load(ctx, s.DB.Gorm, id)
	if err != nil {
		return nil, err
	}
	return row.toDomain(), nil
}

// Start implements dsr.ExecutionStore. The first start is audited; a retry only
// counts its attempt. On Postgres one statement does both. The journal
// returned knows what the start read: on the first attempt, that nothing
// is journaled yet.
func (s *ExecutionStore) Start(ctx context.Context, id string, now time.Time) (*dsr.Request, dsr.Journal, error) {
	if err := checkRequestID(id); err != nil {
		return nil, nil, err
	}
	row, err := s.markRunning(ctx, id, now.UTC().Truncate(time.Microsecond))
	if err != nil {
		return nil, nil, err
	}
	if row == nil {
		prev, err := s.Requests.load(ctx, s.DB.Gorm, id)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "request is %s", prev.Status)
	}
	return row.toDomain(), newStartedJournal(s, row), nil
}

// markRunning moves request id, pending or running, to running and returns
// its row, or nil when it is neither. The first start (the attempt that
// makes attempts 1) appends request.running to the audit chain atomically
// with it.
func (s *ExecutionStore) markRunning(ctx context.Context, id string, now time.Time) (*requestRow, error) {
	const update = `UPDATE lethe_requests SET status = ?, attempts = attempts + 1, updated_at = ?, process_id = ?,
			started_at = COALESCE(started_at, ?)
		WHERE id = ? AND status IN (?, ?) RETURNING *`
	args := []any{string(dsr.StatusRunning), now, s.Process, now, id, string(dsr.StatusPending), string(dsr.StatusRunning)}
	running := dsr.AuditEvent{Actor: "lethe", Action: "request.running"}
	var rows []requestRow
	// A progress record (see DB.Progress): nothing changes before the
	// execution's first durable write, whose commit makes the start durable
	// too, and a crash of the state database before it loses a start that a
	// new attempt makes again.
	err := s.DB.writeProgress(ctx, func(tx *gorm.DB) error {
		if s.DB.Dialect == Postgres {
			e, _ := newEntry(now, running)
			with, wargs := pgAppend(e, "r", map[int]string{dsr.HashedRequestID: "r.id", dsr.HashedTenant: "r.tenant", dsr.HashedSubject: "r.subject"},
				"r.attempts = 1")
			return tx.Raw("WITH r AS ("+update+"),\n\t\t"+with+"\n\t\tSELECT * FROM r", append(args, wargs...)...).Scan(&rows).Error
		}
		return tx.Transaction(func(tx *gorm.DB) error {
			if err := tx.Raw(update, args...).Scan(&rows).Error; err != nil || len(rows) == 0 || rows[0].Attempts != 1 {
				return err
			}
			running.RequestID, running.Tenant, running.Subject = rows[0].ID, rows[0].Tenant, dsr.Subject(rows[0].Subject)
			_, err := s.Audit.appendTx(tx, now, running)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("start request: %w", err)
	} else if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// Finish implements dsr.ExecutionStore. The email, the frozen keys and the steps'
// cursors are forgotten once the request has ended, in the transaction
// that ends it: the certificate names the subject by its hash only. On
// Postgres one statement does it all (see endAtOnce).
func (s *ExecutionStore) Finish(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent) error {
	return s.finish(ctx, r, ev, nil)
}

var _ dsr.JournalFinisher = (*ExecutionStore)(nil)

// FinishJournal implements dsr.JournalFinisher: Finish, storing the steps
// that j (this store's journal of r) holds in the same statement on
// Postgres, the same transaction on SQLite, and only when the end is
// stored, with no cursor (the end forgets them). A first attempt's
// snapshot and keys, held when it ends before its first Durable step,
// are flushed before. Another journal is flushed, if it can be, before
// Finish.
func (s *ExecutionStore) FinishJournal(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent, j dsr.Journal) error {
	jj, ok := j.(*Journal)
	if !ok || jj.DB != s.DB || jj.RequestID != r.ID || jj.Process != s.Process {
		if f, ok := j.(dsr.Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				return err
			}
		}
		return s.Finish(ctx, r, ev)
	}
	jj.mu.Lock()
	defer jj.mu.Unlock()
	if jj.held.snapshot != nil || len(jj.held.keys) > 0 {
		if err := jj.flush(ctx); err != nil {
			return err
		}
	}
	steps := make([]dsr.Step, len(jj.held.steps))
	for i, h := range jj.held.steps {
		steps[i] = h.step
		steps[i].Cursor = ""
	}
	if err := s.finish(ctx, r, ev, steps); err != nil {
		return err
	}
	jj.held = heldWrites{}
	return nil
}

// finish is Finish, storing steps with the end.
func (s *ExecutionStore) finish(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent, steps []dsr.Step) error {
	now := s.DB.now()
	ended := false
	var err error
	if s.DB.Dialect == Postgres {
		ended, err = s.endAtOnce(ctx, r, ev, now, steps)
	}
	if err == nil && !ended {
		err = s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.end(tx, r, ev, now, steps) })
	}
	if err != nil {
		return err
	}
	// The end is stored; a failed scrub only leaves the old pages on disk
	// until SQLite's next checkpoint.
	_ = s.DB.Scrub(ctx)
	return nil
}

// endUpdate is the statement that records r's end while it is running (and,
// fenced, this process's), with its arguments.
func (s *ExecutionStore) endUpdate(r *dsr.Request, now time.Time) (string, []any) {
	var code, msg *string
	if r.Err != nil {
		code, msg = &r.Err.Code, &r.Err.Message
	}
	q := `UPDATE lethe_requests SET status = ?, updated_at = ?, finished_at = ?, email = NULL, identities = NULL,
			counts = ?, verification = ?, error_code = ?, error_message = ?
		WHERE id = ? AND status = ?`
	args := []any{string(r.Status), now, now, jsonPtr(r.Counts), jsonPtr(r.Verification), code, msg, r.ID, string(dsr.StatusRunning)}
	if s.Process != "" {
		q, args = q+" AND process_id = ?", append(args, s.Process)
	}
	return q, args
}

// endAtOnce is Finish in one statement on Postgres: the end, the keys and
// cursors forgotten, steps stored (when the end is: they select from r),
// the entry appended. It reports false, having changed nothing, when r is
// no longer running (or this process's), or when a step of r holds a
// resume point journaled before cursors had their own column, which only
// end's transaction rewrites.
func (s *ExecutionStore) endAtOnce(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent, now time.Time, steps []dsr.Step) (bool, error) {
	e, err := newEntry(now, ev)
	if err != nil {
		return false, err
	}
	update, args := s.endUpdate(r, now)
	update += ` AND NOT EXISTS (SELECT 1 FROM lethe_request_steps WHERE request_id = ? AND detail LIKE ?) RETURNING id`
	args = append(args, r.ID, legacyResume)
	// The cursors are forgotten but in the steps stored here, which have
	// none: one statement may not change a row twice.
	forget := ""
	var fargs []any
	var stored []string
	var sargs []any
	for i, st := range steps {
		q, qargs := stepStatement(r.ID, "", st, i+1, "r")
		stored, sargs = append(stored, "step"+strconv.Itoa(i+1)+" AS ("+q+"),\n\t\t"), append(sargs, qargs...)
		forget, fargs = forget+" AND name <> ?", append(fargs, st.Name)
	}
	args = append(append(args, fargs...), sargs...)
	with, wargs := pgAppend(e, "r", nil, "")
	var n int64
	err = s.DB.Gorm.WithContext(ctx).Raw(`WITH r AS (`+update+`),
		k AS (DELETE FROM lethe_request_keys WHERE request_id IN (SELECT id FROM r)),
		c AS (UPDATE lethe_request_steps SET cursor = NULL WHERE request_id IN (SELECT id FROM r) AND cursor IS NOT NULL`+forget+`),
		`+strings.Join(stored, "")+with+`
		SELECT count(*) FROM r`, append(args, wargs...)...).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("finish request: %w", err)
	}
	return n == 1, nil
}

// end is Finish inside tx, storing steps once the end is.
func (s *ExecutionStore) end(tx *gorm.DB, r *dsr.Request, ev dsr.AuditEvent, now time.Time, steps []dsr.Step) error {
	update, args := s.endUpdate(r, now)
	res := tx.Exec(update, args...)
	switch {
	case res.Error != nil:
		return fmt.Errorf("finish request: %w", res.Error)
	case res.RowsAffected == 0 && s.Process != "" && s.takenOver(tx, r.ID):
		return fmt.Errorf("finish request %s: %w", r.ID, dsr.ErrTakenOver)
	case res.RowsAffected == 0:
		return dsr.Errorf(dsr.ECONFLICT, "request %s is no longer running", r.ID)
	}
	for i, st := range steps {
		q, args := stepStatement(r.ID, "", st, i+1, "")
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("finish request: save step %s: %w", st.Name, err)
		}
	}
	if err := forgetKeys(tx, r.ID); err != nil {
		return err
	}
	_, err := s.Audit.appendTx(tx, now, ev)
	return err
}

// Journal implements dsr.ExecutionStore.
func (s *ExecutionStore) Journal(id string) dsr.Journal {
	return &Journal{DB: s.DB, RequestID: id, Process: s.Process}
}

// takenOver reports whether running request id is now another process's.
func (s *ExecutionStore) takenOver(tx *gorm.DB, id string) bool {
	var n int64
	tx.Model(&requestRow{}).Where("id = ? AND status = ? AND process_id <> ?", id, string(dsr.StatusRunning), s.Process).Count(&n)
	return n > 0
}
