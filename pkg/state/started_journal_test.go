package state_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// statementCounter counts the statements gorm runs, and keeps their text.
type statementCounter struct {
	logger.Interface
	n    atomic.Int64
	mu   sync.Mutex
	text []string
}

func (c *statementCounter) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	c.n.Add(1)
	q, _ := fc()
	c.mu.Lock()
	c.text = append(c.text, q)
	c.mu.Unlock()
}

// since returns the text of the statements run since the n-th.
func (c *statementCounter) since(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.text[n:])
}

// counted gives b's store a statement counter and files an erasure of
// email.
func counted(t *testing.T, b *bundle, email string) (*statementCounter, *dsr.Request) {
	stmts := &statementCounter{Interface: logger.Discard}
	b.db.SetLogger(stmts)
	return stmts, b.create(t, admin, dsr.TypeErasure, email, "")
}

// TestFirstAttemptJournal: the journal Start returns for a request's first
// attempt answers its reads from memory and holds the snapshot and frozen
// keys back until its next step, which writes them in the same statement;
// after its first Durable step it holds nothing; a retry's journal reads
// the store and knows the stored snapshot.
func TestFirstAttemptJournal(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		stmts, r := counted(t, b, "fresh@example.com")
		other := func() dsr.Journal { return b.runs.Journal(r.ID) } // a view of the store
		before := stmts.n.Load()
		_, j, err := b.runs.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n := stmts.n.Load() - before; n != 1 && b.dialect == "postgres" {
			t.Errorf("the first start took %d statements; want 1 (the update that appends the audit entry)", n)
		}

		before = stmts.n.Load()
		if steps, err := j.Steps(ctx); err != nil || len(steps) != 0 {
			t.Fatalf("a first attempt's steps: %+v, %v; want none", steps, err)
		}
		if got, err := j.Snapshot(ctx, []byte("registry v1")); err != nil || string(got) != "registry v1" {
			t.Fatalf("snapshot %q, %v", got, err)
		}
		for _, keys := range [][]string{{"2", "1"}, {"3", "1"}} {
			if err := j.FreezeKeys(ctx, "found:app.users.id", keys); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := j.FrozenKeys(ctx, "found:app.users.id", "", 10); err != nil || !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("frozen keys from memory: %v, %v; want 1 2 3", got, err)
		}
		if got, err := j.FrozenKeys(ctx, "found:app.chats.id", "", 10); err != nil || len(got) != 0 {
			t.Errorf("a set never frozen: %v, %v", got, err)
		}
		if n := stmts.n.Load() - before; n != 0 {
			t.Errorf("reading what the journal wrote, and holding the snapshot and keys, ran %d statements; want none", n)
		}
		if got, _ := other().FrozenKeys(ctx, "found:app.users.id", "", 10); len(got) != 0 {
			t.Errorf("the keys are stored before the step that follows them: %v", got)
		}

		before = stmts.n.Load()
		if err := j.SaveStep(ctx, dsr.Step{Name: "enrich", Status: "done", Count: 1}); err != nil {
			t.Fatal(err)
		}
		if n := stmts.n.Load() - before; n != 1 && b.dialect == "postgres" {
			t.Errorf("the step with the held snapshot and keys took %d statements; want 1", n)
		}
		if got, err := other().FrozenKeys(ctx, "found:app.users.id", "", 10); err != nil || !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("keys stored with the step: %v, %v; want 1 2 3", got, err)
		}
		if got, err := other().Snapshot(ctx, []byte("registry v2")); err != nil || string(got) != "registry v1" {
			t.Errorf("snapshot stored with the step: %q, %v; want registry v1", got, err)
		}

		if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true}); err != nil {
			t.Fatal(err)
		}
		if err := j.FreezeKeys(ctx, "later", []string{"x"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := other().FrozenKeys(ctx, "later", "", 10); !slices.Equal(got, []string{"x"}) {
			t.Errorf("after the Durable step, frozen keys %v are not written at once", got)
		}
		if steps, err := j.Steps(ctx); err != nil || len(steps) != 2 || steps[0].Name != "enrich" || steps[1].Name != "freeze" {
			t.Errorf("steps from memory: %+v, %v", steps, err)
		}

		// A retry reads what the first attempt stored.
		run, retry, err := b.runs.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		before = stmts.n.Load()
		if got, err := retry.Snapshot(ctx, []byte("registry v3")); err != nil || string(got) != "registry v1" {
			t.Errorf("a retry's snapshot: %q, %v; want registry v1", got, err)
		}
		if n := stmts.n.Load() - before; n != 0 {
			t.Errorf("a retry's snapshot, known from its start, ran %d statements", n)
		}
		if steps, err := retry.Steps(ctx); err != nil || len(steps) != 2 {
			t.Errorf("a retry's steps: %+v, %v; want the first attempt's two", steps, err)
		}
		run.Status = dsr.StatusCompleted
		before = stmts.n.Load()
		if err := b.runs.Finish(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: run.ID}); err != nil {
			t.Fatal(err)
		}
		if n := stmts.n.Load() - before; n != 1 && b.dialect == "postgres" {
			t.Errorf("the end took %d statements; want 1 (the update that forgets the keys and appends the audit entry)", n)
		}
		if n := b.count(t, "lethe_request_keys", "request_id = ?", r.ID); n != 0 {
			t.Errorf("%d frozen keys left after the end", n)
		}
		entries, err := b.audit.List(ctx, dsr.AuditFilter{RequestID: r.ID})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if want := []string{"request.created", "request.running", "request.completed"}; err != nil || !slices.Equal(actions, want) {
			t.Errorf("audit entries %v, %v; want %v (one running entry for two starts)", actions, err, want)
		}
		if v, err := b.audit.Verify(ctx); err != nil || !v.OK {
			t.Errorf("audit chain: %+v, %v", v, err)
		}
	})
}

// TestSQLiteProgressCommitsWithoutSync: on SQLite a journal's progress
// records commit at synchronous NORMAL (no fsync of the write-ahead log;
// the next commit at FULL syncs them), a Durable step at FULL, and the
// connection is back at FULL afterwards.
func TestSQLiteProgressCommitsWithoutSync(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := context.Background()
	stmts := &statementCounter{Interface: logger.Discard}
	b.db.SetLogger(stmts)
	r := b.create(t, admin, dsr.TypeErasure, "sync@example.com", "")
	_, j, err := b.runs.Start(ctx, r.ID, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step dsr.Step
		want []string
	}{
		{dsr.Step{Name: "freeze", Status: "done", Durable: true}, []string{"INSERT INTO lethe_request_steps"}},
		{dsr.Step{Name: "erase app.chats", Status: "running", Count: 2}, []string{"PRAGMA synchronous = NORMAL", "INSERT INTO lethe_request_steps", "PRAGMA synchronous = FULL"}},
	} {
		from := len(stmts.since(0))
		if err := j.SaveStep(ctx, tc.step); err != nil {
			t.Fatal(err)
		}
		got := stmts.since(from)
		ok := len(got) == len(tc.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], tc.want[i])
		}
		if !ok {
			t.Errorf("saving %s (durable %v) ran %q; want statements starting %q", tc.step.Name, tc.step.Durable, got, tc.want)
		}
	}
	var level int
	if err := b.db.SQL.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil || level != 2 {
		t.Errorf("synchronous is %d after progress records, %v; want 2 (FULL)", level, err)
	}
}

// TestStartCommitsWithoutSync: a request's start (its row and its
// request.running entry) is a progress record, committed without waiting
// for the disk (Postgres: on the Progress pool, with synchronous_commit
// off; SQLite: at synchronous NORMAL), since the execution's first durable
// step follows it before anything changes (see
// TestCheckpointSignsADurableHead for the entry it appends).
func TestStartCommitsWithoutSync(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r := b.create(t, admin, dsr.TypeErasure, "start@example.com", "")
		durable, progress := &statementCounter{Interface: logger.Discard}, &statementCounter{Interface: logger.Discard}
		b.db.Gorm.Logger = durable
		if b.db.Progress() != b.db.Gorm {
			b.db.Progress().Logger = progress
		}
		if _, _, err := b.runs.Start(ctx, r.ID, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		got := append(durable.since(0), progress.since(0)...)
		var start string
		for _, q := range got {
			if strings.Contains(q, "UPDATE lethe_requests SET status") {
				start = q
			}
		}
		switch {
		case start == "":
			t.Fatalf("no start statement among %q", got)
		case b.dialect == state.Postgres && !slices.Contains(progress.since(0), start):
			t.Errorf("the start ran on the durable pool, not on Progress: %q", durable.since(0))
		case b.dialect == state.SQLite && (len(got) < 2 || !strings.HasPrefix(got[0], "PRAGMA synchronous = NORMAL") || !strings.HasPrefix(got[len(got)-1], "PRAGMA synchronous = FULL")):
			t.Errorf("the start ran %q; want it between PRAGMA synchronous = NORMAL and FULL", got)
		}
	})
}

// TestLaterStepsRideOnTheNext: a step saved Later is stored with the next
// step, in the same statement on Postgres, before it in the journal's
// order, and only while the request is the fenced journal's process's;
// the journal answers it at once.
func TestLaterStepsRideOnTheNext(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		stmts, r := counted(t, b, "later@example.com")
		fenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-later"}
		_, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true}); err != nil {
			t.Fatal(err)
		}
		stored := func() []string {
			steps, err := b.runs.Journal(r.ID).Steps(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range steps {
				names = append(names, s.Name+":"+s.Status)
			}
			return names
		}
		before := stmts.n.Load()
		if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.messages", Status: "done", Count: 200, Later: true}); err != nil {
			t.Fatal(err)
		}
		if n := stmts.n.Load() - before; n != 0 {
			t.Errorf("a step saved Later ran %d statements; want none", n)
		}
		if got := stored(); !slices.Equal(got, []string{"freeze:done"}) {
			t.Errorf("stored before the next step: %v", got)
		}
		if steps, err := j.Steps(ctx); err != nil || len(steps) != 2 || steps[1].Count != 200 {
			t.Errorf("the journal's steps: %+v, %v; want the held step", steps, err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.chats", Status: "done", Count: 10, Later: true}); err != nil {
			t.Fatal(err)
		}
		before = stmts.n.Load()
		if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.users", Status: "running", Count: 0, Detail: `{"pass":0,"left":1}`}); err != nil {
			t.Fatal(err)
		}
		if n := stmts.n.Load() - before; n != 1 && b.dialect == "postgres" {
			t.Errorf("the next step with two held took %d statements; want 1", n)
		}
		want := []string{"freeze:done", "erase app.messages:done", "erase app.chats:done", "erase app.users:running"}
		if got := stored(); !slices.Equal(got, want) {
			t.Errorf("stored steps %v; want %v", got, want)
		}

		// Taken over: neither the held step nor the next is stored.
		if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.users", Status: "done", Count: 1, Later: true}); err != nil {
			t.Fatal(err)
		}
		if err := b.db.Gorm.Exec("UPDATE lethe_requests SET process_id = ? WHERE id = ?", "another", r.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "verify", Status: "passed"}); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("saving after a takeover: %v; want ErrTakenOver", err)
		}
		if got := stored(); !slices.Equal(got, want) {
			t.Errorf("stored steps after a takeover %v; want %v", got, want)
		}
	})
}

// laterThenFail saves a collection's done step Later, as the engine does,
// then fails for good: no next step carries the held one.
type laterThenFail struct{}

func (laterThenFail) Execute(ctx context.Context, _ *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true}); err != nil {
		return nil, err
	}
	if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.messages", Status: "done", Count: 200, Later: true}); err != nil {
		return nil, err
	}
	return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "the next collection failed for good")
}

// TestLaterStepStoredWhenRequestFails: a request that fails after a step
// saved Later still stores that step (what it erased before the failure),
// since the Runner flushes the journal before it records the end.
func TestLaterStepStoredWhenRequestFails(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r := b.create(t, admin, dsr.TypeErasure, "failed-later@example.com", "")
		runner := &dsr.Runner{Store: b.runs, Executor: laterThenFail{}, Now: b.clock.Now, Logger: jsonLogger(&testkit.Buffer{})}
		if err := runner.Run(ctx, r.ID, true); err != nil {
			t.Fatal(err)
		}
		got, err := b.runs.Load(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != dsr.StatusFailed {
			t.Fatalf("status %s; want failed", got.Status)
		}
		steps, err := b.runs.Journal(r.ID).Steps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var found *dsr.Step
		for i := range steps {
			if steps[i].Name == "erase app.messages" {
				found = &steps[i]
			}
		}
		if found == nil || found.Status != "done" || found.Count != 200 {
			t.Errorf("stored steps %+v; want erase app.messages done with 200", steps)
		}
	})
}

// TestDurableStepHeld: a Durable step saved Later is held like any Later
// step, and the statement that carries it commits durably: the next
// step's (Postgres: on the durable pool, not on Progress; SQLite: at
// synchronous FULL), or Sync's, which stores nothing else and reports a
// journal taken over.
func TestDurableStepHeld(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		durable, progress := &statementCounter{Interface: logger.Discard}, &statementCounter{Interface: logger.Discard}
		b.db.SetLogger(progress)
		b.db.Gorm.Logger = durable
		// committed reports whether the last statement run commits durably.
		committed := func() bool {
			if b.dialect == state.Postgres {
				return progress.n.Load() == 0
			}
			got := durable.since(0)
			return !slices.ContainsFunc(got, func(q string) bool { return strings.HasPrefix(q, "PRAGMA synchronous = NORMAL") })
		}
		reset := func() {
			durable.n.Store(0)
			progress.n.Store(0)
			durable.mu.Lock()
			durable.text = nil
			durable.mu.Unlock()
		}
		fenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-held"}
		for _, sync := range []bool{false, true} {
			r := b.create(t, admin, dsr.TypeErasure, fmt.Sprintf("held-%v@example.com", sync), "")
			_, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := j.Snapshot(ctx, []byte("registry")); err != nil {
				t.Fatal(err)
			}
			if err := j.FreezeKeys(ctx, "app.users", []string{"1"}); err != nil {
				t.Fatal(err)
			}
			reset()
			if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true, Later: true}); err != nil {
				t.Fatal(err)
			}
			if n := durable.n.Load() + progress.n.Load(); n != 0 {
				t.Errorf("a Durable step saved Later ran %d statements; want none", n)
			}
			if sync {
				err = j.(dsr.Syncer).Sync(ctx)
			} else {
				err = j.SaveStep(ctx, dsr.Step{Name: "erase app.users", Status: "running"})
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.count(t, "lethe_request_steps", "request_id = ? AND name = ?", r.ID, "freeze") != 1 || b.count(t, "lethe_request_keys", "request_id = ?", r.ID) != 1 {
				t.Errorf("the freeze step or its keys are not stored")
			}
			if !committed() {
				t.Errorf("the freeze step committed as a progress record (carried by Sync %v)", sync)
			}
			reset()
			if err := j.(dsr.Syncer).Sync(ctx); err != nil || durable.n.Load()+progress.n.Load() != 0 {
				t.Errorf("Sync with nothing durable held: %v, %d statements; want none", err, durable.n.Load()+progress.n.Load())
			}
		}

		// Taken over: Sync stores nothing and says so.
		r := b.create(t, admin, dsr.TypeErasure, "held-taken@example.com", "")
		_, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true, Later: true}); err != nil {
			t.Fatal(err)
		}
		b.exec(t, "UPDATE lethe_requests SET process_id = ? WHERE id = ?", "another", r.ID)
		if err := j.(dsr.Syncer).Sync(ctx); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("Sync after a takeover: %v; want ErrTakenOver", err)
		}
		if b.count(t, "lethe_request_steps", "request_id = ?", r.ID) != 0 {
			t.Errorf("a journal taken over stored its held step")
		}
	})
}

// TestEndCarriesHeldSteps: the steps a journal holds when its request ends
// (the verification, saved Later) are stored by the end itself, in its one
// statement on Postgres, without cursors (the end forgets them, the
// running step stored before included); an attempt taken over stores
// neither its end nor its held steps, and a legacy resume point (which
// only the end's transaction rewrites) does not lose them.
func TestEndCarriesHeldSteps(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		stmts := &statementCounter{Interface: logger.Discard}
		b.db.SetLogger(stmts)
		fenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-end"}
		for _, legacy := range []bool{false, true} {
			r := b.create(t, admin, dsr.TypeErasure, fmt.Sprintf("end-%v@example.com", legacy), "")
			run, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []dsr.Step{
				{Name: "freeze", Status: "done", Durable: true},
				{Name: "erase app.users", Status: "running", Detail: `{"pass":0}`, Cursor: "k1"},
				{Name: "erase app.users", Status: "done", Count: 3, Later: true},
				{Name: "verify", Status: "passed", Detail: `{"passed":true}`, Later: true},
			} {
				if err := j.SaveStep(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if legacy {
				b.exec(t, "INSERT INTO lethe_request_steps (request_id, name, seq, status, count, detail, at) VALUES (?, ?, 99, ?, 1, ?, ?)",
					r.ID, "erase app.legacy", "running", `{"pass":1,"after":"x"}`, b.clock.Now())
			}
			run.Status = dsr.StatusCompleted
			before := stmts.n.Load()
			if err := fenced.FinishJournal(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: run.ID}, j); err != nil {
				t.Fatal(err)
			}
			if n := stmts.n.Load() - before; b.dialect == state.Postgres && !legacy && n != 1 {
				t.Errorf("the end with two held steps ran %d statements; want 1: %q", n, stmts.since(int(before)))
			}
			steps, err := b.runs.Journal(r.ID).Steps(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range steps {
				got = append(got, fmt.Sprintf("%s:%s:%d:%q", s.Name, s.Status, s.Count, s.Cursor))
			}
			want := []string{`freeze:done:0:""`, `erase app.users:done:3:""`, `verify:passed:0:""`}
			if legacy {
				want = []string{`freeze:done:0:""`, `erase app.users:done:3:""`, `erase app.legacy:running:1:""`, `verify:passed:0:""`}
			}
			if !slices.Equal(got, want) {
				t.Errorf("steps after the end (legacy %v): %v; want %v", legacy, got, want)
			}
			if ended, err := b.runs.Load(ctx, r.ID); err != nil || ended.Status != dsr.StatusCompleted {
				t.Errorf("the request after its end: %+v, %v", ended, err)
			}
		}

		// Taken over: neither the end nor the held step is stored.
		r := b.create(t, admin, dsr.TypeErasure, "end-taken@example.com", "")
		run, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "verify", Status: "passed", Later: true}); err != nil {
			t.Fatal(err)
		}
		b.exec(t, "UPDATE lethe_requests SET process_id = ? WHERE id = ?", "another", r.ID)
		run.Status = dsr.StatusCompleted
		if err := fenced.FinishJournal(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: run.ID}, j); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("the end of an attempt taken over: %v; want ErrTakenOver", err)
		}
		if n := b.count(t, "lethe_request_steps", "request_id = ?", r.ID); n != 0 {
			t.Errorf("an attempt taken over stored %d held steps at its end", n)
		}
	})
}
