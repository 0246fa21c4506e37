package state_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestJournalRowsNeedNoForeignKey: on Postgres a request's steps and
// frozen keys carry no foreign key to lethe_requests (migration 0021; its
// check, a query and a row lock per row inserted, was a large part of a
// journal write's cost). A serving process's journal still writes nothing
// for a request that is not running in it, one never filed included: its
// step is refused as taken over, and its keys are not stored.
func TestJournalRowsNeedNoForeignKey(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		if b.dialect == state.Postgres {
			n := b.count(t, "pg_constraint", "contype = 'f' AND conrelid IN (to_regclass('lethe_request_steps'), to_regclass('lethe_request_keys'))")
			if n != 0 {
				t.Errorf("lethe_request_steps and lethe_request_keys have %d foreign keys, want none", n)
			}
		}
		serving := &state.ExecutionStore{DB: b.db, Audit: b.audit, Requests: b.requests, Process: "lethe-serving"}
		unknown := uuid.NewString()
		j := serving.Journal(unknown)
		if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.users", Status: "done", Count: 1}); !errors.Is(err, dsr.ErrTakenOver) {
			t.Errorf("a step of a request never filed: %v, want ErrTakenOver", err)
		}
		if err := j.FreezeKeys(ctx, "found:app.users.id", []string{"ann@example.com"}); err != nil {
			t.Fatal(err)
		}
		if n := b.count(t, "lethe_request_steps", "request_id = ?", unknown); n != 0 {
			t.Errorf("%d steps stored for a request never filed", n)
		}
		if n := b.count(t, "lethe_request_keys", "request_id = ?", unknown); n != 0 {
			t.Errorf("%d keys stored for a request never filed", n)
		}
	})
}
