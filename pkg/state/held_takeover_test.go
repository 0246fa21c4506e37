package state_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestSyncAfterFlushTakenOver: a held Durable step (the freeze) that a
// read flushes (FrozenKeys of a set grown past what a fresh journal
// mirrors, with keys still held) while the request is another process's
// is not stored, and Sync must then still say ErrTakenOver: the engine
// calls Sync before its first change of data and goes on when it returns
// nil.
func TestSyncAfterFlushTakenOver(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		fenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-flushed"}
		r := b.create(t, admin, dsr.TypeErasure, "flushed@example.com", "")
		_, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// A big set: more keys than a fresh journal mirrors, the last
		// ones held for the next step.
		keys := make([]string, 20001)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%06d", i)
		}
		if err := j.FreezeKeys(ctx, "app.users", keys); err != nil {
			t.Fatal(err)
		}
		if err := j.FreezeKeys(ctx, "app.users", []string{"z"}); err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true, Later: true}); err != nil {
			t.Fatal(err)
		}
		b.exec(t, "UPDATE lethe_requests SET process_id = ? WHERE id = ?", "another", r.ID)
		// A read after the freeze (the walk's first page of the set).
		if _, err := j.FrozenKeys(ctx, "app.users", "", 10); err != nil && !errors.Is(err, dsr.ErrTakenOver) {
			t.Fatal(err)
		}
		if n := b.count(t, "lethe_request_steps", "request_id = ? AND name = ?", r.ID, "freeze"); n != 0 {
			t.Fatalf("an attempt taken over stored its freeze step")
		}
		if err := j.(dsr.Syncer).Sync(ctx); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("Sync after the held freeze step was flushed and fenced out: %v; want ErrTakenOver (the execution would go on to change data)", err)
		}
	})
}

// TestSyncTakenOverBetweenHeldSteps: Sync stores the held steps one
// statement after another (each fenced on its own); a takeover that
// commits between them (here a trigger on the first, the enrichment,
// moving the request to another process) leaves the freeze step out, and
// Sync must say so rather than count the first step as the whole stored.
func TestSyncTakenOverBetweenHeldSteps(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		fenced := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-between"}
		r := b.create(t, admin, dsr.TypeErasure, "between@example.com", "")
		_, j, err := fenced.Start(ctx, r.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "enrich", Status: "done", Later: true}); err != nil {
			t.Fatal(err)
		}
		if err := j.SaveStep(ctx, dsr.Step{Name: "freeze", Status: "done", Durable: true, Later: true}); err != nil {
			t.Fatal(err)
		}
		if b.dialect == state.Postgres {
			b.exec(t, `CREATE FUNCTION take_over() RETURNS trigger AS $$ BEGIN
				UPDATE lethe_requests SET process_id = 'another' WHERE id = NEW.request_id; RETURN NEW; END $$ LANGUAGE plpgsql`)
			b.exec(t, `CREATE TRIGGER take_over AFTER INSERT ON lethe_request_steps FOR EACH ROW WHEN (NEW.name = 'enrich') EXECUTE FUNCTION take_over()`)
		} else {
			b.exec(t, `CREATE TRIGGER take_over AFTER INSERT ON lethe_request_steps WHEN NEW.name = 'enrich' BEGIN
				UPDATE lethe_requests SET process_id = 'another' WHERE id = NEW.request_id; END`)
		}
		err = j.(dsr.Syncer).Sync(ctx)
		freeze := b.count(t, "lethe_request_steps", "request_id = ? AND name = ?", r.ID, "freeze")
		if freeze == 0 && !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("Sync left the freeze step out (taken over) and returned %v; want ErrTakenOver (the execution would go on to change data)", err)
		}
	})
}
