package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lethe-privacy/lethe/dsr"
)

// Journal implements dsr.Journal for one request.
type Journal struct {
	DB        *DB
	RequestID string
	// Process, when set, fences the journal: a step is saved only while
	// the request is this process's, else SaveStep fails with
	// dsr.ErrTakenOver.
	Process string

	mu sync.Mutex
	// sets holds the frozen key sets read whole, in the store's order: an
	// execution reads a small set once per collection it erases and
	// verifies, and a set no longer changes once read.
	sets map[string][]string
}

var _ dsr.Journal = (*Journal)(nil)

type stepRow struct {
	RequestID string `gorm:"primaryKey"`
	Name      string `gorm:"primaryKey"`
	Seq       int64
	Status    string
	Count     int64
	Detail    string
	At        time.Time
	Cursor    *string
}

func (stepRow) TableName() string { return "lethe_request_steps" }

type keyRow struct {
	RequestID string `gorm:"primaryKey"`
	SetName   string `gorm:"primaryKey"`
	Key       string `gorm:"primaryKey"`
}

func (keyRow) TableName() string { return "lethe_request_keys" }

// Steps implements dsr.Journal.
func (j *Journal) Steps(ctx context.Context) ([]dsr.Step, error) {
	var rows []stepRow
	if err := j.DB.Gorm.WithContext(ctx).Where("request_id = ?", j.RequestID).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("journal: steps: %w", err)
	}
	out := make([]dsr.Step, len(rows))
	for i, r := range rows {
		out[i] = dsr.Step{Name: r.Name, Status: r.Status, Count: r.Count, Detail: r.Detail, At: r.At.UTC()}
		if r.Cursor != nil {
			out[i].Cursor = *r.Cursor
		}
	}
	return out, nil
}

// SaveStep implements dsr.Journal in one statement (one round trip): the
// engine saves a step after every batch, so its cost is on the hot path.
// Steps are progress records (see DB.Progress) unless Durable.
// A fenced journal's statement inserts only while the request is still its
// process's.
func (j *Journal) SaveStep(ctx context.Context, s dsr.Step) error {
	if s.At.IsZero() {
		s.At = j.DB.now()
	}
	cols := "?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM lethe_request_steps WHERE request_id = ?), ?, ?, ?, ?, ?"
	args := []any{j.RequestID, s.Name, j.RequestID, s.Status, s.Count, s.Detail, s.At.UTC().Truncate(time.Microsecond), strPtr(s.Cursor)}
	rows := "VALUES (" + cols + ")"
	if j.Process != "" {
		rows = "SELECT " + cols + " WHERE EXISTS (SELECT 1 FROM lethe_requests WHERE id = ? AND process_id = ?)"
		args = append(args, j.RequestID, j.Process)
	}
	q := `INSERT INTO lethe_request_steps (request_id, name, seq, status, count, detail, at, cursor) ` + rows + `
		ON CONFLICT (request_id, name) DO UPDATE SET status = excluded.status, count = excluded.count,
			detail = excluded.detail, at = excluded.at, cursor = excluded.cursor`
	db := j.DB.Progress()
	if s.Durable {
		db = j.DB.Gorm
	}
	res := db.WithContext(ctx).Exec(q, args...)
	if res.Error != nil {
		return fmt.Errorf("journal: save step %s: %w", s.Name, res.Error)
	}
	if j.Process != "" && res.RowsAffected == 0 {
		return fmt.Errorf("journal: save step %s: %w", s.Name, dsr.ErrTakenOver)
	}
	return nil
}

// FreezeKeys implements dsr.Journal: progress records (see DB.Progress),
// made durable by the Durable step that follows them.
func (j *Journal) FreezeKeys(ctx context.Context, set string, keys []string) error {
	j.forget(set)
	const batch = 500
	for len(keys) > 0 {
		n := min(batch, len(keys))
		rows := make([]keyRow, n)
		for i, k := range keys[:n] {
			rows[i] = keyRow{RequestID: j.RequestID, SetName: set, Key: k}
		}
		if err := j.DB.Progress().WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
			return fmt.Errorf("journal: freeze keys of %s: %w", set, err)
		}
		keys = keys[n:]
	}
	return nil
}

// FrozenKeys implements dsr.Journal. A set whose first page is its whole
// is kept in memory and later pages are read from there.
func (j *Journal) FrozenKeys(ctx context.Context, set string, after string, limit int) ([]string, error) {
	if keys, ok := j.cached(set, after, limit); ok {
		return keys, nil
	}
	var out []string
	err := j.DB.Gorm.WithContext(ctx).Model(&keyRow{}).Where("request_id = ? AND set_name = ? AND key > ?", j.RequestID, set, after).
		Order("key").Limit(limit).Pluck("key", &out).Error
	if err != nil {
		return nil, fmt.Errorf("journal: frozen keys of %s: %w", set, err)
	}
	if after == "" && len(out) < limit {
		j.mu.Lock()
		if j.sets == nil {
			j.sets = map[string][]string{}
		}
		j.sets[set] = out
		j.mu.Unlock()
	}
	return out, nil
}

// cached answers FrozenKeys from a set read whole: the keys after after
// (the last key of a page read before, or "").
func (j *Journal) cached(set, after string, limit int) ([]string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	keys, ok := j.sets[set]
	if !ok {
		return nil, false
	}
	from := 0
	if after != "" {
		i := slices.Index(keys, after)
		if i < 0 {
			return nil, false
		}
		from = i + 1
	}
	return slices.Clone(keys[from:min(len(keys), from+limit)]), true
}

// forget drops a set about to change from memory.
func (j *Journal) forget(set string) {
	j.mu.Lock()
	delete(j.sets, set)
	j.mu.Unlock()
}

// Snapshot implements dsr.Journal in one statement, a progress record
// (see DB.Progress) made durable by the frozen keys that follow it.
func (j *Journal) Snapshot(ctx context.Context, data []byte) ([]byte, error) {
	var stored *string
	err := j.DB.Progress().WithContext(ctx).Raw(`UPDATE lethe_requests SET registry_snapshot = COALESCE(registry_snapshot, ?)
		WHERE id = ? RETURNING registry_snapshot`, string(data), j.RequestID).Row().Scan(&stored)
	if err != nil {
		return nil, fmt.Errorf("journal: snapshot: %w", err)
	}
	if stored == nil {
		return data, nil
	}
	return []byte(*stored), nil
}

// forgetKeys deletes, inside tx, what request id's journal holds of the
// application's keys: its frozen key sets and its steps' cursors. It is
// called wherever a request reaches a final status, since nothing resumes
// it then, and the keys may be personal data (an email used as primary
// key). Counts and step details, which hold no keys, stay.
func forgetKeys(tx *gorm.DB, id string) error {
	if tx.Dialector.Name() == Postgres { // one round trip
		err := tx.Exec(`WITH keys AS (DELETE FROM lethe_request_keys WHERE request_id = ?)
			UPDATE lethe_request_steps SET cursor = NULL WHERE request_id = ? AND cursor IS NOT NULL`, id, id).Error
		if err != nil {
			return fmt.Errorf("journal: forget the keys of request %s: %w", id, err)
		}
		return forgetLegacyResumes(tx, id)
	}
	if err := tx.Where("request_id = ?", id).Delete(&keyRow{}).Error; err != nil {
		return fmt.Errorf("journal: forget the frozen keys of request %s: %w", id, err)
	}
	if err := tx.Model(&stepRow{}).Where("request_id = ? AND cursor IS NOT NULL", id).Update("cursor", nil).Error; err != nil {
		return fmt.Errorf("journal: forget the cursors of request %s: %w", id, err)
	}
	return forgetLegacyResumes(tx, id)
}

// forgetLegacyResumes removes the "after" resume point from the details of
// request id's steps journaled before cursors had their own column (see
// migration 0010, which did so for requests that had already ended). A
// detail that is not a JSON object is left as it is.
func forgetLegacyResumes(tx *gorm.DB, id string) error {
	var rows []stepRow
	if err := tx.Where("request_id = ? AND detail LIKE ?", id, `%"after"%`).Find(&rows).Error; err != nil {
		return fmt.Errorf("journal: read the details of request %s: %w", id, err)
	}
	for _, r := range rows {
		var detail map[string]json.RawMessage
		if json.Unmarshal([]byte(r.Detail), &detail) != nil {
			continue
		}
		if _, ok := detail["after"]; !ok {
			continue
		}
		delete(detail, "after")
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("journal: rewrite a detail of request %s: %w", id, err)
		}
		if err := tx.Model(&stepRow{}).Where("request_id = ? AND name = ?", id, r.Name).Update("detail", string(b)).Error; err != nil {
			return fmt.Errorf("journal: forget a resume point of request %s: %w", id, err)
		}
	}
	return nil
}
