package state

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// RetentionRuns implements retention.RunLog: the record of sweeps.
type RetentionRuns struct {
	DB      *DB
	Audit   *AuditLog
	Subject *dsr.SubjectHasher // signs list cursors
	// Enqueue queues the job of run id inside tx (see Queue); nil makes
	// Queue fail.
	Enqueue func(ctx context.Context, tx *sql.Tx, id string) error
	// Process is the id of this lethe serve process (see Processes), kept
	// in the runs it begins; "" for a one-shot command. A run whose process
	// stopped beating is taken over at once, and one whose process still
	// beats is never taken over, however slow.
	Process string
	// Processes judges the liveness of other runs' processes; nil falls
	// back to the runs' own heartbeats (StaleAfter) alone.
	Processes *Processes
}

var _ retention.RunLog = (*RetentionRuns)(nil)

// maxPendingShown bounds the pending files Run returns.
const maxPendingShown = 1000

// Queue records a queued run and enqueues its job in one transaction, so
// the run is never recorded without its job. ECONFLICT while another real
// run is queued or running; a dry run never conflicts.
func (s *RetentionRuns) Queue(ctx context.Context, actor string, dryRun bool) (*retention.Run, error) {
	if s.Enqueue == nil {
		return nil, errors.New("retention runs: no queue to enqueue on")
	}
	now := s.DB.now()
	row := &retentionRunRow{ID: uuid.Must(uuid.NewV7()).String(), Status: string(retention.StatusQueued), Kind: retention.KindRetention, DryRun: dryRun,
		Trigger: retention.TriggerAPI, Actor: actor, AsOf: now, CreatedAt: now, Counts: "[]", Cursor: "{}"}
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !dryRun {
			if err := s.activeConflict(tx, retention.KindRetention, ""); err != nil {
				return err
			}
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "retention.queued",
			Details: map[string]any{"run": row.ID, "dry_run": dryRun}}); err != nil {
			return err
		}
		sqlTx, err := SQLTx(tx)
		if err != nil {
			return err
		}
		return s.Enqueue(ctx, sqlTx, row.ID)
	})
	if err != nil && isUniqueViolation(err) {
		return nil, dsr.Errorf(dsr.ECONFLICT, "a retention sweep is already queued or running; wait for it (GET /v1/retention/runs)")
	}
	if err != nil {
		return nil, fmt.Errorf("queue retention run: %w", err)
	}
	return row.toDomain(), nil
}

// activeConflict returns ECONFLICT naming a real run of kind other than
// except that is queued, or running with a fresh heartbeat.
func (s *RetentionRuns) activeConflict(tx *gorm.DB, kind, except string) error {
	var rows []retentionRunRow
	if err := s.DB.lock(tx).Where("status IN ? AND dry_run = ? AND id <> ? AND kind = ?",
		[]string{string(retention.StatusQueued), string(retention.StatusRunning)}, false, except, kind).Find(&rows).Error; err != nil {
		return fmt.Errorf("read active retention runs: %w", err)
	}
	if len(rows) > 0 {
		return dsr.Errorf(dsr.ECONFLICT, "retention run %s is already %s; wait for it to finish", rows[0].ID, rows[0].Status)
	}
	return nil
}

// Begin implements retention.RunLog.
func (s *RetentionRuns) Begin(ctx context.Context, b retention.Begin) (*retention.Run, error) {
	now := b.Now.UTC().Truncate(time.Microsecond)
	var out *retention.Run
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := &retentionRunRow{ID: b.ID, Kind: cmp.Or(b.Kind, retention.KindRetention), DryRun: b.DryRun, Trigger: b.Trigger, Actor: b.Actor, AsOf: now,
			CreatedAt: now, Counts: "[]", Cursor: "{}"}
		carried := false
		if b.ID != "" {
			if err := s.latest(tx, b.ID, row); err != nil {
				return err
			}
			switch {
			case row.Status == string(retention.StatusRunning) && s.orphaned(ctx, tx, row, now, b.StaleAfter),
				row.Status == string(retention.StatusFailed) && row.ResumedBy == "":
				// Its job was rescued from a dead process, or given back by
				// a stopping one: carry the run on under a new id that
				// resumes it, with its cut-off and cursor.
				if row.Status == string(retention.StatusRunning) {
					if err := s.interrupt(tx, row, now); err != nil {
						return err
					}
				}
				next := *row
				next.ID, next.CreatedAt, next.ProcessID, next.Resumes, next.ResumedBy = uuid.Must(uuid.NewV7()).String(), now, "", row.ID, ""
				next.FinishedAt, next.ErrorCode, next.ErrorMessage = nil, nil, nil
				if next.DryRun {
					next.AsOf, next.Cursor, next.Counts = now, "{}", "[]"
				}
				if err := tx.Model(&retentionRunRow{}).Where("id = ?", row.ID).Update("resumed_by", next.ID).Error; err != nil {
					return fmt.Errorf("mark retention run %s resumed: %w", row.ID, err)
				}
				row, carried = &next, true
			case row.Status != string(retention.StatusQueued):
				return dsr.Errorf(dsr.ECONFLICT, "retention run %s is %s, not queued", row.ID, row.Status)
			default:
				row.AsOf = now
			}
		} else {
			row.ID = uuid.Must(uuid.NewV7()).String()
		}
		if !row.DryRun {
			if err := s.takeOver(ctx, tx, row.Kind, row.ID, now, b.StaleAfter); err != nil {
				return err
			}
			if !carried {
				if err := s.resume(tx, row); err != nil {
					return err
				}
			}
		}
		row.Status, row.StartedAt, row.HeartbeatAt, row.RegistryVersion = string(retention.StatusRunning), &now, &now, b.RegistryVersion
		row.ProcessID = s.Process
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	if err != nil && isUniqueViolation(err) {
		return nil, dsr.Errorf(dsr.ECONFLICT, "another retention sweep is queued or running; this one did not start")
	}
	if err != nil && dsr.ErrorCode(err) == dsr.EINTERNAL {
		return nil, fmt.Errorf("begin retention run: %w", err)
	}
	return out, err
}

// latest loads into row, locked, the run that carries on run id: id
// itself, or the last of the runs that resumed it one after another. A
// sweep's job names the run it was queued for, and a job rescued from a
// dead process more than once finds that run already carried on under
// other ids; the run to begin from is the last of them. ENOTFOUND for an
// unknown id.
func (s *RetentionRuns) latest(tx *gorm.DB, id string, row *retentionRunRow) error {
	if err := s.DB.lock(tx).Where("id = ?", id).Take(row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return dsr.Errorf(dsr.ENOTFOUND, "retention run %s not found", id)
	} else if err != nil {
		return err
	}
	for seen := map[string]bool{row.ID: true}; row.ResumedBy != "" && !seen[row.ResumedBy]; seen[row.ID] = true {
		var next retentionRunRow
		if err := s.DB.lock(tx).Where("id = ?", row.ResumedBy).Take(&next).Error; err != nil {
			return fmt.Errorf("read retention run %s, which resumed %s: %w", row.ResumedBy, row.ID, err)
		}
		*row = next
	}
	return nil
}

// takeOver marks failed the running real runs of kind whose process died
// (see orphaned) and returns ECONFLICT for a live one or for another queued
// run.
func (s *RetentionRuns) takeOver(ctx context.Context, tx *gorm.DB, kind, id string, now time.Time, staleAfter time.Duration) error {
	var rows []retentionRunRow
	if err := s.DB.lock(tx).Where("status IN ? AND dry_run = ? AND id <> ? AND kind = ?",
		[]string{string(retention.StatusQueued), string(retention.StatusRunning)}, false, id, kind).Find(&rows).Error; err != nil {
		return fmt.Errorf("read running retention runs: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		if r.Status == string(retention.StatusQueued) || !s.orphaned(ctx, tx, r, now, staleAfter) {
			return dsr.Errorf(dsr.ECONFLICT, "retention run %s is already %s; wait for it to finish", r.ID, r.Status)
		}
		if err := s.interrupt(tx, r, now); err != nil {
			return err
		}
	}
	return nil
}

// orphaned reports whether running run r lost its process: one that kept
// its process id is orphaned exactly when that process stopped beating; one
// without (begun by a one-shot command) when it made no progress for
// staleAfter. A liveness that cannot be read counts as alive: two sweeps at
// once are worse than a late one.
func (s *RetentionRuns) orphaned(ctx context.Context, tx *gorm.DB, r *retentionRunRow, now time.Time, staleAfter time.Duration) bool {
	if r.ProcessID != "" && s.Processes != nil {
		if r.ProcessID == s.Process {
			return false
		}
		sqlTx, err := SQLTx(tx)
		if err != nil {
			return false
		}
		live, err := s.Processes.live(ctx, sqlTx, r.ProcessID)
		return err == nil && !live
	}
	beat := r.CreatedAt
	if r.HeartbeatAt != nil {
		beat = *r.HeartbeatAt
	}
	return now.Sub(beat) >= staleAfter
}

// interrupt marks running run r failed, to be resumed by the next run.
func (s *RetentionRuns) interrupt(tx *gorm.DB, r *retentionRunRow, now time.Time) error {
	beat := r.CreatedAt
	if r.HeartbeatAt != nil {
		beat = *r.HeartbeatAt
	}
	code, msg := dsr.EUNAVAILABLE, fmt.Sprintf("interrupted: no progress since %s; the next run resumes here", beat.UTC().Format(time.RFC3339))
	if err := tx.Model(&retentionRunRow{}).Where("id = ?", r.ID).Updates(map[string]any{
		"status": string(retention.StatusFailed), "finished_at": now, "error_code": code, "error_message": msg}).Error; err != nil {
		return fmt.Errorf("mark retention run %s interrupted: %w", r.ID, err)
	}
	return nil
}

// resume makes row carry on from the latest real run of its kind when that
// one failed and nothing resumed it: same AsOf, same cursor.
func (s *RetentionRuns) resume(tx *gorm.DB, row *retentionRunRow) error {
	var last retentionRunRow
	err := tx.Where("dry_run = ? AND id <> ? AND status IN ? AND kind = ?", false, row.ID,
		[]string{string(retention.StatusCompleted), string(retention.StatusFailed)}, row.Kind).
		Order("created_at DESC, id DESC").Take(&last).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read the last retention run: %w", err)
	}
	if last.Status != string(retention.StatusFailed) || last.ResumedBy != "" {
		return nil
	}
	row.AsOf, row.Cursor, row.Resumes = last.AsOf.UTC(), last.Cursor, last.ID
	return tx.Model(&retentionRunRow{}).Where("id = ?", last.ID).Update("resumed_by", row.ID).Error
}

// Save implements retention.RunLog.
func (s *RetentionRuns) Save(ctx context.Context, r *retention.Run, files []retention.File) error {
	now := s.DB.now()
	return s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.update(tx, r.ID, map[string]any{
			"counts": encodeJSON(r.Counts), "cursor": encodeJSON(r.Cursor), "heartbeat_at": now}); err != nil {
			return fmt.Errorf("save retention run %s: %w", r.ID, err)
		}
		const batch = 500
		for start := 0; start < len(files); start += batch {
			part := files[start:min(start+batch, len(files))]
			rows := make([]retentionFileRow, len(part))
			for i, f := range part {
				rows[i] = retentionFileRow{RunID: r.ID, Store: f.Store, Key: f.Key, Collection: f.Collection, Status: filePending}
			}
			if err := tx.Clauses(onConflictDoNothing()).Create(&rows).Error; err != nil {
				return fmt.Errorf("journal files of retention run %s: %w", r.ID, err)
			}
		}
		return nil
	})
}

// update writes upd to run id while it is running as this process's (any
// process's for a one-shot command, Process ""), inside tx; else
// retention.ErrTakenOver: another sweep marked it failed and resumed it.
func (s *RetentionRuns) update(tx *gorm.DB, id string, upd map[string]any) error {
	q := tx.Model(&retentionRunRow{}).Where("id = ? AND status = ?", id, string(retention.StatusRunning))
	if s.Process != "" {
		q = q.Where("process_id = ?", s.Process)
	}
	res := q.Updates(upd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return retention.ErrTakenOver
	}
	return nil
}

// FilesDone implements retention.RunLog.
func (s *RetentionRuns) FilesDone(ctx context.Context, files []retention.File) error {
	return s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, f := range files {
			if err := tx.Model(&retentionFileRow{}).Where("store = ? AND key = ?", f.Store, f.Key).
				Update("status", fileDeleted).Error; err != nil {
				return fmt.Errorf("mark file deleted: %w", err)
			}
		}
		return nil
	})
}

// Finish implements retention.RunLog. The audit entry carries the counts
// (collections, tenants and numbers: no personal data).
func (s *RetentionRuns) Finish(ctx context.Context, r *retention.Run) error {
	now := s.DB.now()
	upd := map[string]any{"status": string(r.Status), "finished_at": now, "heartbeat_at": now,
		"counts": encodeJSON(r.Counts), "cursor": encodeJSON(r.Cursor), "error_code": nil, "error_message": nil}
	details := map[string]any{"run": r.ID, "kind": r.Kind, "dry_run": r.DryRun, "trigger": r.Trigger, "as_of": r.AsOf,
		"totals": r.Totals(), "counts": r.Counts}
	if r.Resumes != "" {
		details["resumes"] = r.Resumes
	}
	if r.Err != nil {
		upd["error_code"], upd["error_message"] = r.Err.Code, r.Err.Message
		details["error"] = r.Err
	}
	action := "retention." + string(r.Status)
	if r.DryRun {
		action = "retention.dry_run." + string(r.Status)
	}
	if r.Kind == retention.KindResponses {
		action = strings.Replace(action, "retention.", "retention.responses.", 1)
	}
	return s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.update(tx, r.ID, upd); err != nil {
			return fmt.Errorf("finish retention run %s: %w", r.ID, err)
		}
		_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: r.Actor, Action: action, Details: details})
		return err
	})
}

// Run implements retention.RunReader.
func (s *RetentionRuns) Run(ctx context.Context, id string) (*retention.Run, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "retention run %q not found", id)
	}
	var row retentionRunRow
	err := s.DB.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "retention run %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("load retention run: %w", err)
	}
	run := row.toDomain()
	var files []retentionFileRow
	if err := s.DB.Gorm.WithContext(ctx).Where("run_id = ? AND status = ?", id, filePending).
		Order("store, key").Limit(maxPendingShown).Find(&files).Error; err != nil {
		return nil, fmt.Errorf("load retention run files: %w", err)
	}
	for _, f := range files {
		run.FilesPending = append(run.FilesPending, retention.File{Store: f.Store, Key: f.Key, Collection: f.Collection})
	}
	return run, nil
}

// Runs implements retention.RunReader.
func (s *RetentionRuns) Runs(ctx context.Context, f retention.RunFilter) (*retention.RunPage, error) {
	q := s.DB.Gorm.WithContext(ctx).Model(&retentionRunRow{})
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	rows, next, err := newestFirst(s.Subject, q, f.Cursor, f.Limit, "retention runs", func(r *retentionRunRow) cursor {
		return cursor{CreatedAt: r.CreatedAt.UTC(), ID: r.ID}
	})
	if err != nil {
		return nil, err
	}
	page := &retention.RunPage{Items: make([]*retention.Run, 0, len(rows)), NextCursor: next}
	for i := range rows {
		page.Items = append(page.Items, rows[i].toDomain())
	}
	return page, nil
}

// LastFinished returns the finish time of the latest real retention run
// (of KindRetention) that completed, or nil: what the last-run metric shows.
func (s *RetentionRuns) LastFinished(ctx context.Context) (*time.Time, error) {
	return s.lastEnded(ctx, retention.StatusCompleted)
}

// LastFailed returns the finish time of the latest real retention run that
// failed, or nil: a sweep's error, whichever replica ran it.
func (s *RetentionRuns) LastFailed(ctx context.Context) (*time.Time, error) {
	return s.lastEnded(ctx, retention.StatusFailed)
}

func (s *RetentionRuns) lastEnded(ctx context.Context, status retention.Status) (*time.Time, error) {
	var row retentionRunRow
	err := s.DB.Gorm.WithContext(ctx).Where("dry_run = ? AND status = ? AND kind = ?", false, string(status), retention.KindRetention).
		Order("finished_at DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("last %s retention run: %w", status, err)
	}
	return utcPtr(row.FinishedAt), nil
}
