package state_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRetentionRunOfADeadProcessIsTakenOver: a sweep whose process still
// beats is never taken over, however long since its last batch; once that
// process stops beating, the next sweep takes it over at once, with the
// same cut-off (AsOf) and cursor; and a rescued job of a queued run whose
// process died carries that run on under a new id. A process that finds
// its own heartbeat lapsed is told so.
func TestRetentionRunOfADeadProcessIsTakenOver(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		procs := &state.Processes{DB: b.db, DeadAfter: time.Second}
		beat := func(p state.Process) bool {
			t.Helper()
			lapsed, err := procs.Beat(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return lapsed
		}
		// Postgres judges beats by its own clock, SQLite by the process's.
		silence := func() {
			time.Sleep(2 * procs.DeadAfter)
			b.clock.Advance(2 * procs.DeadAfter)
		}
		p1, p2 := state.NewProcess(), state.NewProcess()
		if beat(p1) || beat(p2) {
			t.Fatal("a first beat reports a lapse")
		}
		runs := func(p state.Process) *state.RetentionRuns {
			return &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher, Process: p.ID, Processes: procs}
		}
		begin := func(p state.Process, id string) (*retention.Run, error) {
			return runs(p).Begin(ctx, retention.Begin{ID: id, Trigger: retention.TriggerSchedule, Actor: "schedule",
				Now: b.clock.Now(), StaleAfter: time.Nanosecond})
		}
		first, err := begin(p1, "")
		if err != nil {
			t.Fatal(err)
		}
		after := "users.7"
		first.Cursor = retention.Cursor{Done: []string{"app.chats"}, Unit: "app.users", AfterKey: &after}
		if err := runs(p1).Save(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(time.Millisecond) // older than StaleAfter, but its process lives
		beat(p1)                          // a loaded machine may have taken DeadAfter since its first beat
		if _, err := begin(p2, ""); dsr.ErrorCode(err) != dsr.ECONFLICT {
			t.Fatalf("a sweep beside a live process's slow sweep: %v; want ECONFLICT", err)
		}

		silence()
		beat(p2)
		if dead, err := procs.Dead(ctx, p2.ID); err != nil || !reflect.DeepEqual(dead, []string{p1.ID}) {
			t.Fatalf("dead processes %v (%v); want only %s", dead, err, p1.ID)
		}
		next, err := begin(p2, "")
		if err != nil {
			t.Fatalf("the sweep of a dead process was not taken over: %v", err)
		}
		if next.Resumes != first.ID || !next.AsOf.Equal(first.AsOf) || !reflect.DeepEqual(next.Cursor, first.Cursor) {
			t.Fatalf("take-over resumes %q as of %s at %+v; want %s as of %s at %+v",
				next.Resumes, next.AsOf, next.Cursor, first.ID, first.AsOf, first.Cursor)
		}
		if old, err := runs(p2).Run(ctx, first.ID); err != nil || old.Status != retention.StatusFailed {
			t.Fatalf("interrupted run: %+v %v; want failed", old, err)
		}
		if !beat(p1) {
			t.Error("a process whose heartbeat lapsed is not told so on its next beat")
		}

		// The job of next is rescued to p1 after p2 dies: Begin with next's
		// id carries it on.
		silence()
		beat(p1)
		carried, err := begin(p1, next.ID)
		if err != nil {
			t.Fatalf("a rescued job's run: %v", err)
		}
		if carried.ID == next.ID || carried.Resumes != next.ID || !carried.AsOf.Equal(first.AsOf) || !reflect.DeepEqual(carried.Cursor, first.Cursor) {
			t.Fatalf("rescued run %+v; want a new run resuming %s with its cut-off and cursor", carried, next.ID)
		}
	})
}

// TestSweepJobRescuedTwiceCarriesOnItsRun: a sweep queued through the API
// has one job, naming the queued run, for its whole life. Its first process
// dies and the job is rescued: the run is carried on under a new id. That
// process dies too and the same job is rescued again: it must carry on the
// run where the second process left it (same cut-off, the second one's
// cursor), not refuse because the run it names is no longer queued, which
// left the sweep running on a dead process until the next schedule. While
// the carrying process lives, or once the sweep completed, the job starts
// nothing.
func TestSweepJobRescuedTwiceCarriesOnItsRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		procs := &state.Processes{DB: b.db, DeadAfter: time.Second}
		ps := []state.Process{state.NewProcess(), state.NewProcess(), state.NewProcess(), state.NewProcess()}
		runs := func(p state.Process) *state.RetentionRuns {
			return &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher, Process: p.ID, Processes: procs,
				Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
		}
		// die silences ps[i] past DeadAfter while the ones after it beat.
		die := func(i int) {
			t.Helper()
			time.Sleep(2 * procs.DeadAfter) // Postgres judges beats by its own clock, SQLite by the process's
			b.clock.Advance(2 * procs.DeadAfter)
			for _, p := range ps[i+1:] {
				if _, err := procs.Beat(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
		}
		die(-1) // every process's first beat
		queued, err := runs(ps[0]).Queue(ctx, "admin", false)
		if err != nil {
			t.Fatal(err)
		}
		// job is what the queued run's job does on process p.
		job := func(p state.Process) (*retention.Run, error) {
			return runs(p).Begin(ctx, retention.Begin{ID: queued.ID, Now: b.clock.Now(), StaleAfter: retention.DefaultStaleAfter})
		}
		first, err := job(ps[0])
		if err != nil || first.ID != queued.ID {
			t.Fatalf("the job's first attempt: %+v %v; want run %s started", first, err, queued.ID)
		}
		at := func(key string) retention.Cursor {
			return retention.Cursor{Done: []string{"app.chats"}, Unit: "app.messages", AfterKey: &key}
		}
		first.Cursor = at("messages.100")
		if err := runs(ps[0]).Save(ctx, first, nil); err != nil {
			t.Fatal(err)
		}

		die(0)
		second, err := job(ps[1])
		if err != nil || second.Resumes != first.ID {
			t.Fatalf("the job rescued from a dead process: %+v %v; want a run resuming %s", second, err, first.ID)
		}
		second.Cursor = at("messages.200")
		if err := runs(ps[1]).Save(ctx, second, nil); err != nil {
			t.Fatal(err)
		}

		die(1)
		third, err := job(ps[2])
		if err != nil {
			t.Fatalf("the job rescued a second time: %v; want the run carried on", err)
		}
		if third.Resumes != second.ID || !third.AsOf.Equal(first.AsOf) || !reflect.DeepEqual(third.Cursor, second.Cursor) {
			t.Fatalf("the job rescued a second time resumes %q as of %s at %+v; want %s as of %s at %+v",
				third.Resumes, third.AsOf, third.Cursor, second.ID, first.AsOf, second.Cursor)
		}
		if old, err := runs(ps[2]).Run(ctx, second.ID); err != nil || old.Status != retention.StatusFailed {
			t.Fatalf("the dead process's run: %+v %v; want failed", old, err)
		}

		// A copy of the job on a live replica while ps[2] lives: nothing.
		if _, err := job(ps[3]); dsr.ErrorCode(err) != dsr.ECONFLICT {
			t.Fatalf("the job beside the live carrier: %v; want ECONFLICT", err)
		}
		third.Status = retention.StatusCompleted
		if err := runs(ps[2]).Finish(ctx, third); err != nil {
			t.Fatal(err)
		}
		// ps[2] dies before the queue records the job done: nothing to do.
		die(2)
		if _, err := job(ps[3]); dsr.ErrorCode(err) != dsr.ECONFLICT {
			t.Fatalf("the job of a completed sweep: %v; want ECONFLICT", err)
		}
		page, err := runs(ps[3]).Runs(ctx, retention.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var statuses []retention.Status
		for _, r := range page.Items {
			statuses = append(statuses, r.Status)
		}
		if want := []retention.Status{retention.StatusCompleted, retention.StatusFailed, retention.StatusFailed}; !reflect.DeepEqual(statuses, want) {
			t.Errorf("runs newest first %v; want %v", statuses, want)
		}
	})
}

// TestRestartAloneTakesOverAtOnce: lethe serve on SQLite holds the file's
// serve lock, so when it is killed mid-sweep and restarted at once, its
// predecessor's beat is still fresh but the predecessor is dead. The
// restart, alone on the store, resumes the sweep's rescued job at once,
// with its cut-off and cursor; it refused before (the run looked live),
// leaving the sweep running on a dead process, every later sweep refused.
func TestRestartAloneTakesOverAtOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		killed, restart := state.NewProcess(), state.NewProcess()
		shared := &state.Processes{DB: b.db, DeadAfter: time.Hour}
		alone := &state.Processes{DB: b.db, DeadAfter: time.Hour, Alone: true}
		runs := func(p state.Process, procs *state.Processes) *state.RetentionRuns {
			return &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher, Process: p.ID, Processes: procs,
				Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
		}
		for _, p := range []state.Process{killed, restart} {
			if _, err := shared.Beat(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		queued, err := runs(killed, shared).Queue(ctx, "admin", false)
		if err != nil {
			t.Fatal(err)
		}
		job := func(p state.Process, procs *state.Processes) (*retention.Run, error) {
			return runs(p, procs).Begin(ctx, retention.Begin{ID: queued.ID, Now: b.clock.Now(), StaleAfter: retention.DefaultStaleAfter})
		}
		first, err := job(killed, shared)
		if err != nil {
			t.Fatal(err)
		}
		after := "messages.100"
		first.Cursor = retention.Cursor{Unit: "app.messages", AfterKey: &after}
		if err := runs(killed, shared).Save(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		// Beside a live process, the fresh beat keeps the sweep its own.
		if _, err := job(restart, shared); dsr.ErrorCode(err) != dsr.ECONFLICT {
			t.Fatalf("a replica's copy of the job beside the fresh beat: %v; want ECONFLICT", err)
		}
		if dead, err := alone.Dead(ctx, restart.ID); err != nil || !reflect.DeepEqual(dead, []string{killed.ID}) {
			t.Fatalf("dead processes seen alone: %v %v; want %s", dead, err, killed.ID)
		}
		next, err := job(restart, alone)
		if err != nil {
			t.Fatalf("the restart, alone on the store: %v; want the sweep carried on", err)
		}
		if next.Resumes != first.ID || !next.AsOf.Equal(first.AsOf) || !reflect.DeepEqual(next.Cursor, first.Cursor) {
			t.Fatalf("the restart resumes %q as of %s at %+v; want %s as of %s at %+v",
				next.Resumes, next.AsOf, next.Cursor, first.ID, first.AsOf, first.Cursor)
		}
	})
}

// TestTakenOverRequestIsFenced: once another process has started a
// request (its first process stalled and the request was rescued), the
// first process's journal writes and finish fail with dsr.ErrTakenOver, so
// its attempt stops; the new owner's go through. Unfenced use (no process)
// is unchanged.
func TestTakenOverRequestIsFenced(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r := b.create(t, dsr.Caller{Admin: true}, dsr.TypeErasure, "fenced@example.com", "")
		stalled := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-stalled"}
		rescuer := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-rescuer"}
		if _, _, err := stalled.Start(ctx, r.ID, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := stalled.Journal(r.ID).SaveStep(ctx, dsr.Step{Name: "delete app.users", Status: "done", Count: 1}); err != nil {
			t.Fatalf("the owner's step: %v", err)
		}
		started, _, err := rescuer.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		err = stalled.Journal(r.ID).SaveStep(ctx, dsr.Step{Name: "delete app.chats", Status: "done", Count: 2})
		if !errors.Is(err, dsr.ErrTakenOver) {
			t.Fatalf("the stalled process's step after the take-over: %v; want ErrTakenOver", err)
		}
		started.Status = dsr.StatusCompleted
		ev := dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: r.ID}
		if err := stalled.Finish(ctx, started, ev); !errors.Is(err, dsr.ErrTakenOver) {
			t.Fatalf("the stalled process's finish: %v; want ErrTakenOver", err)
		}
		if err := rescuer.Journal(r.ID).SaveStep(ctx, dsr.Step{Name: "delete app.chats", Status: "done", Count: 2}); err != nil {
			t.Fatalf("the rescuer's step: %v", err)
		}
		steps, err := rescuer.Journal(r.ID).Steps(ctx)
		if err != nil || len(steps) != 2 {
			t.Fatalf("journal %+v %v; want the owner's and the rescuer's steps only", steps, err)
		}
		if err := rescuer.Finish(ctx, started, ev); err != nil {
			t.Fatalf("the rescuer's finish: %v", err)
		}
		unfenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests}
		if err := unfenced.Journal(r.ID).SaveStep(ctx, dsr.Step{Name: "note", Status: "done"}); err != nil {
			t.Fatalf("an unfenced journal: %v", err)
		}
	})
}

// TestTakenOverRetentionRunIsFenced: once another process has taken over a
// sweep (its first process stalled past its heartbeat), the stalled
// process's progress and finish fail with retention.ErrTakenOver and change
// nothing, so it stops and the run's record stays the one it was resumed
// from; the new owner's go through. A one-shot command's run (no process)
// is fenced by its status alone.
func TestTakenOverRetentionRunIsFenced(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		procs := &state.Processes{DB: b.db, DeadAfter: 300 * time.Millisecond}
		stalled, rescuer := state.NewProcess(), state.NewProcess()
		runs := func(p state.Process) *state.RetentionRuns {
			return &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher, Process: p.ID, Processes: procs}
		}
		begin := func(r *state.RetentionRuns) (*retention.Run, error) {
			return r.Begin(ctx, retention.Begin{Trigger: retention.TriggerSchedule, Actor: "schedule", Now: b.clock.Now(), StaleAfter: time.Nanosecond})
		}
		for _, p := range []state.Process{stalled, rescuer} {
			if _, err := procs.Beat(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		first, err := begin(runs(stalled))
		if err != nil {
			t.Fatal(err)
		}
		after := "users.7"
		first.Cursor = retention.Cursor{Unit: "app.users", AfterKey: &after}
		first.Counts = []retention.Count{{Collection: "app.users", RowsPurged: 7}}
		if err := runs(stalled).Save(ctx, first, nil); err != nil {
			t.Fatalf("the owner's progress: %v", err)
		}
		time.Sleep(2 * procs.DeadAfter) // the stalled process misses its beats
		b.clock.Advance(2 * procs.DeadAfter)
		if _, err := procs.Beat(ctx, rescuer); err != nil {
			t.Fatal(err)
		}
		next, err := begin(runs(rescuer))
		if err != nil || next.Resumes != first.ID {
			t.Fatalf("take-over: %+v %v; want a run resuming %s", next, err, first.ID)
		}

		later := "users.9"
		first.Cursor.AfterKey = &later
		first.Counts[0].RowsPurged = 9
		if err := runs(stalled).Save(ctx, first, nil); !errors.Is(err, retention.ErrTakenOver) {
			t.Fatalf("the stalled process's progress after the take-over: %v; want ErrTakenOver", err)
		}
		first.Status = retention.StatusCompleted
		if err := runs(stalled).Finish(ctx, first); !errors.Is(err, retention.ErrTakenOver) {
			t.Fatalf("the stalled process's finish: %v; want ErrTakenOver", err)
		}
		old, err := runs(rescuer).Run(ctx, first.ID)
		if err != nil || old.Status != retention.StatusFailed || old.Totals().RowsPurged != 7 {
			t.Fatalf("taken-over run %+v %v; want failed with the 7 rows it had recorded", old, err)
		}
		entries, err := b.audit.List(ctx, dsr.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Action == "retention.completed" {
				t.Fatalf("the stalled process's finish reached the audit trail: %+v", e)
			}
		}
		if err := runs(rescuer).Save(ctx, next, nil); err != nil {
			t.Fatalf("the rescuer's progress: %v", err)
		}
		next.Status = retention.StatusCompleted
		if err := runs(rescuer).Finish(ctx, next); err != nil {
			t.Fatalf("the rescuer's finish: %v", err)
		}

		oneShot := &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher}
		cli, err := begin(oneShot)
		if err != nil {
			t.Fatal(err)
		}
		if err := oneShot.Save(ctx, cli, nil); err != nil {
			t.Fatalf("a one-shot run's progress: %v", err)
		}
		b.clock.Advance(time.Second) // no progress past StaleAfter: the next sweep takes it over
		if _, err := begin(runs(rescuer)); err != nil {
			t.Fatal(err)
		}
		if err := oneShot.Save(ctx, cli, nil); !errors.Is(err, retention.ErrTakenOver) {
			t.Fatalf("a taken-over one-shot run's progress: %v; want ErrTakenOver", err)
		}
	})
}

// TestTakenOverAttemptWritesNoKeys: a stalled attempt that wakes after
// another process took its request over and ended it (forgetting its
// keys) writes none of the application's keys back, neither those its
// first-attempt journal held for its next step nor those it freezes
// directly: an email may be a key, and nothing would forget it again.
func TestTakenOverAttemptWritesNoKeys(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r := b.create(t, dsr.Caller{Admin: true}, dsr.TypeErasure, "woke@example.com", "")
		stalled := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-stalled"}
		rescuer := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-rescuer"}
		_, held, err := stalled.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		started, _, err := rescuer.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		started.Status = dsr.StatusCompleted
		if err := rescuer.Finish(ctx, started, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
		if err := held.FreezeKeys(ctx, "app.newsletter(email)", []string{"woke@example.com"}); err != nil {
			t.Fatal(err)
		}
		if err := held.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true}); !errors.Is(err, dsr.ErrTakenOver) {
			t.Fatalf("the stalled attempt's freeze step: %v; want ErrTakenOver", err)
		}
		_ = stalled.Journal(r.ID).FreezeKeys(ctx, "app.users(email)", []string{"woke@example.com"})
		if n := b.count(t, "lethe_request_keys", "request_id = ?", r.ID); n != 0 {
			t.Errorf("%d keys written back by the taken-over attempt after the request ended; want none", n)
		}
	})
}

// TestEndedRequestTakesNoKeys: the process that ended a request (and so
// forgot its keys) writes no key or step to it afterwards, though the
// request still names that process.
func TestEndedRequestTakesNoKeys(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r := b.create(t, dsr.Caller{Admin: true}, dsr.TypeErasure, "ended@example.com", "")
		runs := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-one"}
		started, _, err := runs.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		started.Status = dsr.StatusCompleted
		if err := runs.Finish(ctx, started, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
		j := runs.Journal(r.ID)
		_ = j.FreezeKeys(ctx, "app.users(email)", []string{"ended@example.com"})
		if err := j.SaveStep(ctx, dsr.Step{Name: "late", Status: "done"}); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("a step after the end: %v; want ErrTakenOver", err)
		}
		if n := b.count(t, "lethe_request_keys", "request_id = ?", r.ID); n != 0 {
			t.Errorf("%d keys written to the ended request; want none", n)
		}
	})
}
