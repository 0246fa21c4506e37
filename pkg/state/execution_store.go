package state

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
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
// counts its attempt. The request is moved to running by one UPDATE that
// returns the row (on Postgres, the statement also locks the audit chain's
// head for the first start's entry), and the journal returned knows what
// that row says: on the first attempt, that nothing is journaled yet.
func (s *ExecutionStore) Start(ctx context.Context, id string, now time.Time) (*dsr.Request, dsr.Journal, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, nil, dsr.Errorf(dsr.ENOTFOUND, "request %q not found", id)
	}
	now = now.UTC().Truncate(time.Microsecond)
	var row *requestRow
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var head *auditHead
		var err error
		if row, head, err = s.markRunning(tx, id, now); err != nil || row == nil {
			return err
		}
		if row.Attempts != 1 { // only the first start moves the request from pending
			return nil
		}
		ev := dsr.AuditEvent{Actor: "lethe", Action: "request.running", RequestID: row.ID, Tenant: row.Tenant, Subject: dsr.Subject(row.Subject)}
		if head != nil {
			_, err = s.Audit.appendAfter(tx, *head, now, ev)
		} else {
			_, err = s.Audit.appendTx(tx, now, ev)
		}
		return err
	})
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

// markRunning moves request id, pending or running, to running inside tx and
// returns its row, or nil when it is neither. On Postgres the same statement
// locks and returns the audit chain's head.
func (s *ExecutionStore) markRunning(tx *gorm.DB, id string, now time.Time) (*requestRow, *auditHead, error) {
	const update = `UPDATE lethe_requests SET status = ?, attempts = attempts + 1, updated_at = ?, process_id = ?,
			started_at = COALESCE(started_at, ?)
		WHERE id = ? AND status IN (?, ?) RETURNING *`
	args := []any{string(dsr.StatusRunning), now, s.Process, now, id, string(dsr.StatusPending), string(dsr.StatusRunning)}
	if s.DB.Dialect != Postgres {
		var rows []requestRow
		if err := tx.Raw(update, args...).Scan(&rows).Error; err != nil || len(rows) == 0 {
			return nil, nil, err
		}
		return &rows[0], nil, nil
	}
	var rows []struct {
		Row      requestRow `gorm:"embedded"`
		HeadSeq  int64
		HeadHash string
	}
	err := tx.Raw(`WITH r AS (`+update+`)
		SELECT r.*, h.seq AS head_seq, h.hash AS head_hash FROM r, lethe_audit_head h WHERE h.id = 1 FOR UPDATE OF h`, args...).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	return &rows[0].Row, &auditHead{ID: 1, Seq: rows[0].HeadSeq, Hash: rows[0].HeadHash}, nil
}

// Finish implements dsr.ExecutionStore. The email, the frozen keys and the steps'
// cursors are forgotten once the request has ended, in the transaction
// that ends it: the certificate names the subject by its hash only.
func (s *ExecutionStore) Finish(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent) error {
	now := s.DB.now()
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ended, head, err := s.end(tx, r, now)
		if err != nil {
			return err
		} else if !ended && s.Process != "" && s.takenOver(tx, r.ID) {
			return fmt.Errorf("finish request %s: %w", r.ID, dsr.ErrTakenOver)
		} else if !ended {
			return dsr.Errorf(dsr.ECONFLICT, "request %s is no longer running", r.ID)
		}
		if head == nil {
			_, err = s.Audit.appendTx(tx, now, ev)
		} else {
			_, err = s.Audit.appendAfter(tx, *head, now, ev)
		}
		return err
	})
	if err != nil {
		return err
	}
	// The end is stored; a failed scrub only leaves the old pages on disk
	// until SQLite's next checkpoint.
	_ = s.DB.Scrub(ctx)
	return nil
}

// end records r's end inside tx if r is still running (and, fenced, this
// process's), and forgets its keys (see forgetKeys); ended is false when
// it was not. On Postgres one statement does it all and locks and returns
// the audit chain's head for the end's entry.
func (s *ExecutionStore) end(tx *gorm.DB, r *dsr.Request, now time.Time) (ended bool, head *auditHead, err error) {
	var code, msg *string
	if r.Err != nil {
		code, msg = &r.Err.Code, &r.Err.Message
	}
	where, args := "id = ? AND status = ?", []any{string(r.Status), now, now, jsonPtr(r.Counts), jsonPtr(r.Verification), code, msg, r.ID, string(dsr.StatusRunning)}
	if s.Process != "" {
		where, args = where+" AND process_id = ?", append(args, s.Process)
	}
	update := `UPDATE lethe_requests SET status = ?, updated_at = ?, finished_at = ?, email = NULL, identities = NULL,
			counts = ?, verification = ?, error_code = ?, error_message = ?
		WHERE ` + where
	if s.DB.Dialect != Postgres {
		res := tx.Exec(update, args...)
		if res.Error != nil {
			return false, nil, fmt.Errorf("finish request: %w", res.Error)
		} else if res.RowsAffected == 0 {
			return false, nil, nil
		}
		return true, nil, forgetKeys(tx, r.ID)
	}
	var rows []struct {
		Seq    int64
		Hash   string
		Legacy int64
	}
	err = tx.Raw(`WITH r AS (`+update+` RETURNING id),
			k AS (DELETE FROM lethe_request_keys WHERE request_id IN (SELECT id FROM r)),
			c AS (UPDATE lethe_request_steps SET cursor = NULL WHERE request_id IN (SELECT id FROM r) AND cursor IS NOT NULL)
		SELECT h.seq, h.hash, (SELECT count(*) FROM lethe_request_steps WHERE request_id = ? AND detail LIKE ?) AS legacy
		FROM r, lethe_audit_head h WHERE h.id = 1 FOR UPDATE OF h`, append(args, r.ID, legacyResume)...).Scan(&rows).Error
	if err != nil {
		return false, nil, fmt.Errorf("finish request: %w", err)
	} else if len(rows) == 0 {
		return false, nil, nil
	}
	if rows[0].Legacy > 0 {
		err = forgetLegacyResumes(tx, r.ID)
	}
	return true, &auditHead{ID: 1, Seq: rows[0].Seq, Hash: rows[0].Hash}, err
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
