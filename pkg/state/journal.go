package state

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
)

// Journal implements dsr.Journal for one request.
//
// The journal that ExecutionStore.Start returns for a request's first
// attempt is fresh: the store holds no step, key or snapshot of the request
// but what this Journal writes, so it answers Steps, FrozenKeys and
// Snapshot from a copy in memory (see fresh) instead of reading back what
// it wrote. Until its first Durable step, which an execution saves before
// it changes any data, it also holds the snapshot and the frozen keys back
// and writes them with the next step, in the same statement on Postgres
// (a data-modifying WITH) and the same transaction on SQLite: a crash
// before that step loses nothing an execution would not redo, as the
// step is missing too. A Durable step saved Later is held as well (the
// journal is a dsr.Syncer): the statement that carries it, the next
// step's or Sync's, commits durably.
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
	// snapshot is the registry snapshot stored, once known.
	snapshot *string
	// fresh, when set, mirrors everything this journal wrote; a key set
	// grown past maxMirroredKeys leaves it for good (see big).
	fresh *memjournal.Journal
	n     map[string]int // keys frozen by set, while mirrored
	held  heldWrites
	// durable is set once a Durable step is stored: no snapshot or key is
	// held after it.
	durable bool
	// fencedOut is set once a write of held steps found the request no
	// longer this process's: Sync then reports the takeover, whichever
	// write (a read's flush among them) dropped the held Durable step.
	fencedOut bool
}

// heldWrites are what a journal writes with its next step: a fresh one's
// snapshot and keys, and any journal's steps saved Later. durable says a
// Durable step is among them: the statement that writes them commits
// durably. The steps still held when the request ends are stored by the
// end's statement (see ExecutionStore.FinishJournal).
type heldWrites struct {
	snapshot *string
	keys     []keyRow
	steps    []heldStep
	durable  bool
}

// heldStep is a step saved Later, as the statement that stores it.
type heldStep struct {
	step dsr.Step // the request's end stores it its own way
	q    string
	args []any
}

// Bounds of what a fresh journal keeps in memory.
const (
	maxMirroredKeys = 20000 // keys of one set answered from memory
	maxHeldKeys     = 2000  // keys held back for the next step's statement
)

// newStartedJournal returns the journal of an attempt that Start has just
// begun: fresh on the request's first attempt, and knowing the stored
// snapshot.
func newStartedJournal(s *ExecutionStore, row *requestRow) *Journal {
	j := &Journal{DB: s.DB, RequestID: row.ID, Process: s.Process, snapshot: row.RegistrySnapshot}
	if row.Attempts == 1 {
		j.fresh, j.n = memjournal.New(), map[string]int{}
	}
	return j
}

var (
	_ dsr.Journal = (*Journal)(nil)
	_ dsr.Flusher = (*Journal)(nil)
	_ dsr.Syncer  = (*Journal)(nil)
)

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
	if j.fresh != nil {
		return j.fresh.Steps(ctx)
	}
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
// Steps are progress records (see DB.Progress) unless Durable, or carrying
// a Durable step held. A fenced journal's statement inserts only while the
// request is still its process's. What the journal holds is written with
// the step: a fresh journal's snapshot and keys, and steps saved Later
// (Durable ones too, see Sync), which cost no round trip of their own.
func (j *Journal) SaveStep(ctx context.Context, s dsr.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	s.At = cmp.Or(s.At, j.DB.now()).UTC().Truncate(time.Microsecond)
	if s.Later {
		j.hold(s)
		if j.fresh != nil {
			return j.fresh.SaveStep(ctx, s)
		}
		return nil
	}
	// Held steps come first, each a seq ahead of the one before; s
	// replaces a held step of its name.
	j.held.steps = slices.DeleteFunc(j.held.steps, func(h heldStep) bool { return h.step.Name == s.Name })
	q, args := j.stepStatement(s, len(j.held.steps)+1)
	var n int64
	save := func(tx *gorm.DB) (err error) {
		n, err = j.exec(tx, q, args)
		return err
	}
	durable := s.Durable || j.held.durable
	var err error
	if durable {
		err = save(j.DB.Gorm.WithContext(ctx))
	} else {
		err = j.DB.writeProgress(ctx, save)
	}
	if err != nil {
		return fmt.Errorf("journal: save step %s: %w", s.Name, err)
	}
	if j.Process != "" && n == 0 {
		return fmt.Errorf("journal: save step %s: %w", s.Name, dsr.ErrTakenOver)
	}
	j.held, j.durable = heldWrites{}, j.durable || durable
	if j.fresh != nil {
		return j.fresh.SaveStep(ctx, s)
	}
	return nil
}

// hold keeps step s, saved Later, for the next step's statement; it
// replaces a held step of the same name. A Durable one makes that
// statement commit durably.
func (j *Journal) hold(s dsr.Step) {
	steps := slices.DeleteFunc(j.held.steps, func(h heldStep) bool { return h.step.Name == s.Name })
	q, args := j.stepStatement(s, len(steps)+1)
	j.held.steps = append(steps, heldStep{step: s, q: q, args: args})
	j.held.durable = j.held.durable || s.Durable
}

// stepStatement returns the statement that stores step s, numbered seq
// after the request's last stored step unless stored already; a fenced
// journal's stores it only while the request is its process's.
func (j *Journal) stepStatement(s dsr.Step, seq int) (string, []any) {
	return stepStatement(j.RequestID, j.Process, s, seq, "")
}

// stepStatement is Journal.stepStatement for request id, fenced by process
// when set; with from, the name of a WITH of the same statement, it stores
// s only when from holds a row (the request's end: see endAtOnce).
func stepStatement(id, process string, s dsr.Step, seq int, from string) (string, []any) {
	cols := "?, ?, (SELECT COALESCE(MAX(seq), 0) + " + strconv.Itoa(seq) + " FROM lethe_request_steps WHERE request_id = ?), ?, ?, ?, ?, ?"
	args := []any{id, s.Name, id, s.Status, s.Count, s.Detail, s.At, strPtr(s.Cursor)}
	rows := "VALUES (" + cols + ")"
	switch {
	case from != "":
		rows = "SELECT " + cols + " FROM " + from
	case process != "":
		rows = "SELECT " + cols + " WHERE EXISTS (" + fence + ")"
		args = append(args, id, process, dsr.StatusRunning)
	}
	return `INSERT INTO lethe_request_steps (request_id, name, seq, status, count, detail, at, cursor) ` + rows + `
		ON CONFLICT (request_id, name) DO UPDATE SET status = excluded.status, count = excluded.count,
			detail = excluded.detail, at = excluded.at, cursor = excluded.cursor`, args
}

// exec runs statement q of a step with what the journal holds and returns
// the rows q changed: on Postgres in one statement, else in one
// transaction, rolled back when q changes nothing.
func (j *Journal) exec(db *gorm.DB, q string, args []any) (int64, error) {
	if j.held.empty() {
		res := db.Exec(q, args...)
		return res.RowsAffected, res.Error
	}
	if j.DB.Dialect == Postgres {
		with, wargs := j.held.with(j.RequestID, j.Process)
		res := db.Exec(with+q, append(wargs, args...)...)
		return res.RowsAffected, res.Error
	}
	var n int64
	err := db.Transaction(func(tx *gorm.DB) error {
		if _, err := j.held.write(tx, j.RequestID, j.Process); err != nil {
			return err
		}
		res := tx.Exec(q, args...)
		if n = res.RowsAffected; res.Error == nil && n == 0 {
			return errNothingSaved
		}
		return res.Error
	})
	if errors.Is(err, errNothingSaved) {
		return 0, nil
	}
	return n, err
}

var errNothingSaved = errors.New("nothing saved")

// FreezeKeys implements dsr.Journal: progress records (see DB.Progress),
// made durable by the Durable step that follows them. A fresh journal
// holds them for its next step while it may.
func (j *Journal) FreezeKeys(ctx context.Context, set string, keys []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.sets, set)
	if j.fresh != nil && !j.big(set) {
		if j.n[set] += len(keys); !j.big(set) {
			if err := j.fresh.FreezeKeys(ctx, set, keys); err != nil {
				return err
			}
		}
	}
	if j.fresh != nil && !j.durable && len(j.held.keys)+len(keys) <= maxHeldKeys {
		for _, k := range keys {
			j.held.keys = append(j.held.keys, keyRow{RequestID: j.RequestID, SetName: set, Key: k})
		}
		return nil
	}
	if err := j.flush(ctx); err != nil {
		return err
	}
	if err := j.DB.writeProgress(ctx, func(tx *gorm.DB) error { return writeKeys(tx, j.RequestID, j.Process, set, keys) }); err != nil {
		return fmt.Errorf("journal: freeze keys of %s: %w", set, err)
	}
	return nil
}

// writeKeys inserts keys of set, 500 a statement.
func writeKeys(db *gorm.DB, id, process, set string, keys []string) error {
	const batch = 500
	for len(keys) > 0 {
		n := min(batch, len(keys))
		rows := make([]keyRow, n)
		for i, k := range keys[:n] {
			rows[i] = keyRow{RequestID: id, SetName: set, Key: k}
		}
		q, args := insertKeys(rows, process)
		if err := db.Exec(q, args...).Error; err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// fence selects request ? while it runs in process ?: a fenced journal
// writes only then, so neither an attempt taken over nor one that goes on
// after its request ended (whose keys were forgotten) writes anything.
const fence = `SELECT 1 FROM lethe_requests WHERE id = ? AND process_id = ? AND status = ?`

// big reports whether set has grown past what the fresh journal mirrors;
// its keys are then read from the store.
func (j *Journal) big(set string) bool { return j.n[set] > maxMirroredKeys }

// insertKeys is the statement that freezes rows. With a process (a fenced
// journal's), it inserts them only while the request is that process's,
// as its steps are: an attempt taken over, or one that wakes after the
// request ended and forgot its keys, must not write the application's keys
// (an email may be one) back for good.
func insertKeys(rows []keyRow, process string) (string, []any) {
	args := make([]any, 0, 3*len(rows)+2)
	for _, r := range rows {
		args = append(args, r.RequestID, r.SetName, r.Key)
	}
	values := "VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(rows)), ", ")
	if process == "" {
		return `INSERT INTO lethe_request_keys (request_id, set_name, "key") ` + values + ` ON CONFLICT DO NOTHING`, args
	}
	args = append(args, rows[0].RequestID, process, dsr.StatusRunning)
	return `INSERT INTO lethe_request_keys (request_id, set_name, "key") SELECT * FROM (` + values + `) AS v
		WHERE EXISTS (` + fence + `) ON CONFLICT DO NOTHING`, args
}

// FrozenKeys implements dsr.Journal. A set whose first page is its whole
// is kept in memory and later pages are read from there; a fresh journal
// answers from its copy.
func (j *Journal) FrozenKeys(ctx context.Context, set string, after string, limit int) ([]string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if keys, ok := j.cached(set, after, limit); ok {
		return keys, nil
	}
	if j.fresh != nil && !j.big(set) {
		return j.fresh.FrozenKeys(ctx, set, after, limit)
	}
	// Held keys are read back once written; held steps wait for the next
	// step (a Durable one's statement among them must carry no read's
	// cost).
	if len(j.held.keys) > 0 {
		if err := j.flush(ctx); err != nil {
			return nil, err
		}
	}
	var out []string
	err := j.DB.Gorm.WithContext(ctx).Model(&keyRow{}).Where("request_id = ? AND set_name = ? AND key > ?", j.RequestID, set, after).
		Order("key").Limit(limit).Pluck("key", &out).Error
	if err != nil {
		return nil, fmt.Errorf("journal: frozen keys of %s: %w", set, err)
	}
	if after == "" && len(out) < limit {
		if j.sets == nil {
			j.sets = map[string][]string{}
		}
		j.sets[set] = out
	}
	return out, nil
}

// cached answers FrozenKeys from a set read whole: the keys after after
// (the last key of a page read before, or "").
func (j *Journal) cached(set, after string, limit int) ([]string, bool) {
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

// Snapshot implements dsr.Journal in one statement, a progress record
// (see DB.Progress) made durable by the frozen keys that follow it. A
// journal that knows the stored snapshot returns it, and a fresh one
// holds data for its next step.
func (j *Journal) Snapshot(ctx context.Context, data []byte) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.snapshot != nil {
		return []byte(*j.snapshot), nil
	}
	if j.fresh != nil && !j.durable {
		s := string(data)
		j.snapshot, j.held.snapshot = &s, &s
		return data, nil
	}
	var stored *string
	err := j.DB.writeProgress(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`UPDATE lethe_requests SET registry_snapshot = COALESCE(registry_snapshot, ?)
			WHERE id = ? RETURNING registry_snapshot`, string(data), j.RequestID).Row().Scan(&stored)
	})
	if err != nil {
		return nil, fmt.Errorf("journal: snapshot: %w", err)
	}
	j.snapshot = stored
	if stored == nil {
		return data, nil
	}
	return []byte(*stored), nil
}

// Flush implements dsr.Flusher: it stores what the journal holds, in one
// transaction, and does nothing when it holds nothing.
func (j *Journal) Flush(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.flush(ctx)
}

// Sync implements dsr.Syncer: it stores what the journal holds, in one
// transaction committed durably, when a Durable step is among it. An
// execution calls it before its first change of data, which the step
// saved just before (journaling that change ahead) has usually carried
// already: it then costs nothing.
func (j *Journal) Sync(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fencedOut {
		return fmt.Errorf("journal: sync: %w", dsr.ErrTakenOver)
	}
	if !j.held.durable {
		return nil
	}
	stored, err := j.store(ctx)
	if err == nil && j.Process != "" && !stored {
		// Fenced out: an execution taken over must not go on to change
		// data.
		return fmt.Errorf("journal: sync: %w", dsr.ErrTakenOver)
	}
	return err
}

// flush writes what the journal holds, before a write or read that cannot
// carry it: a progress record (see DB.Progress) unless a Durable step is
// among it.
func (j *Journal) flush(ctx context.Context) error {
	_, err := j.store(ctx)
	return err
}

// store is flush, and reports whether the held steps were stored (a
// fenced journal's are not once the request is no longer its process's):
// all of them, each its own statement, fenced on its own, so that a
// takeover committed between two of them is not taken for none.
func (j *Journal) store(ctx context.Context) (bool, error) {
	if j.held.empty() {
		return true, nil
	}
	var stored bool
	write := func(tx *gorm.DB) error {
		return tx.Transaction(func(tx *gorm.DB) error {
			n, err := j.held.write(tx, j.RequestID, j.Process)
			stored = n == int64(len(j.held.steps))
			return err
		})
	}
	var err error
	if j.held.durable {
		err = write(j.DB.Gorm.WithContext(ctx))
	} else {
		err = j.DB.writeProgress(ctx, write)
	}
	if err != nil {
		return false, fmt.Errorf("journal: %w", err)
	}
	if !stored && j.Process != "" {
		j.fencedOut = true
	}
	j.held, j.durable = heldWrites{}, j.durable || j.held.durable
	return stored, nil
}

func (h heldWrites) empty() bool { return h.snapshot == nil && len(h.keys) == 0 && len(h.steps) == 0 }

const snapshotUpdate = `UPDATE lethe_requests SET registry_snapshot = COALESCE(registry_snapshot, ?) WHERE id = ?`

// with returns the held writes as the WITH clause of a statement (Postgres).
func (h heldWrites) with(id, process string) (string, []any) {
	var ctes []string
	var args []any
	if h.snapshot != nil {
		ctes, args = append(ctes, "snapshot AS ("+snapshotUpdate+")"), append(args, *h.snapshot, id)
	}
	if len(h.keys) > 0 {
		q, kargs := insertKeys(h.keys, process)
		ctes, args = append(ctes, "frozen AS ("+q+")"), append(args, kargs...)
	}
	for i, st := range h.steps {
		ctes, args = append(ctes, "step"+strconv.Itoa(i+1)+" AS ("+st.q+")"), append(args, st.args...)
	}
	return "WITH " + strings.Join(ctes, ", ") + " ", args
}

// write runs the held writes in tx and returns the steps' rows stored.
func (h heldWrites) write(tx *gorm.DB, id, process string) (int64, error) {
	if h.snapshot != nil {
		if err := tx.Exec(snapshotUpdate, *h.snapshot, id).Error; err != nil {
			return 0, fmt.Errorf("snapshot: %w", err)
		}
	}
	for len(h.keys) > 0 {
		n := min(500, len(h.keys))
		q, args := insertKeys(h.keys[:n], process)
		if err := tx.Exec(q, args...).Error; err != nil {
			return 0, fmt.Errorf("freeze keys: %w", err)
		}
		h.keys = h.keys[n:]
	}
	var stored int64
	for _, st := range h.steps {
		res := tx.Exec(st.q, st.args...)
		if res.Error != nil {
			return stored, fmt.Errorf("save step %s: %w", st.step.Name, res.Error)
		}
		stored += res.RowsAffected
	}
	return stored, nil
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

// legacyResume matches the details that forgetLegacyResumes rewrites.
const legacyResume = `%"after"%`

// forgetLegacyResumes removes the "after" resume point from the details of
// request id's steps journaled before cursors had their own column (see
// migration 0010, which did so for requests that had already ended). A
// detail that is not a JSON object is left as it is.
func forgetLegacyResumes(tx *gorm.DB, id string) error {
	var rows []stepRow
	if err := tx.Where("request_id = ? AND detail LIKE ?", id, legacyResume).Find(&rows).Error; err != nil {
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
