package state

import (
	"context"
	"fmt"
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
// counts its attempt.
func (s *ExecutionStore) Start(ctx context.Context, id string, now time.Time) (*dsr.Request, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out *dsr.Request
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.Requests.load(ctx, s.DB.lock(tx), id)
		if err != nil {
			return err
		}
		st := dsr.Status(row.Status)
		if st != dsr.StatusPending && st != dsr.StatusRunning {
			return dsr.Errorf(dsr.ECONFLICT, "request is %s", st)
		}
		first := st == dsr.StatusPending
		row.Status, row.Attempts, row.UpdatedAt, row.ProcessID = string(dsr.StatusRunning), row.Attempts+1, now, s.Process
		if row.StartedAt == nil {
			row.StartedAt = &now
		}
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if first {
			if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: "lethe", Action: "request.running",
				RequestID: row.ID, Tenant: row.Tenant, Subject: dsr.Subject(row.Subject)}); err != nil {
				return err
			}
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// Finish implements dsr.ExecutionStore. The email, the frozen keys and the steps'
// cursors are forgotten once the request has ended, in the transaction
// that ends it: the certificate names the subject by its hash only.
func (s *ExecutionStore) Finish(ctx context.Context, r *dsr.Request, ev dsr.AuditEvent) error {
	now := s.DB.now()
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		upd := map[string]any{
			"status": string(r.Status), "updated_at": now, "finished_at": now, "email": nil, "identities": nil,
			"counts": jsonPtr(r.Counts), "verification": jsonPtr(r.Verification),
			"error_code": nil, "error_message": nil,
		}
		if r.Err != nil {
			upd["error_code"], upd["error_message"] = r.Err.Code, r.Err.Message
		}
		q := tx.Model(&requestRow{}).Where("id = ? AND status = ?", r.ID, string(dsr.StatusRunning))
		if s.Process != "" {
			q = q.Where("process_id = ?", s.Process)
		}
		res := q.Updates(upd)
		if res.Error != nil {
			return fmt.Errorf("finish request: %w", res.Error)
		} else if res.RowsAffected == 0 && s.Process != "" && s.takenOver(tx, r.ID) {
			return fmt.Errorf("finish request %s: %w", r.ID, dsr.ErrTakenOver)
		} else if res.RowsAffected == 0 {
			return dsr.Errorf(dsr.ECONFLICT, "request %s is no longer running", r.ID)
		}
		if err := forgetKeys(tx, r.ID); err != nil {
			return err
		}
		_, err := s.Audit.appendTx(tx, now, ev)
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
