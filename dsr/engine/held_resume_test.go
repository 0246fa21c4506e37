package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// stopAfterGroup deletes the group, then fails the attempt as a kill
// would leave it: nothing journaled after the store's commit.
type stopAfterGroup struct {
	*sqlstore.Store
	stopped bool
}

func (s *stopAfterGroup) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	ns, err := s.Store.DeleteEach(ctx, sels, limit, ahead)
	if err != nil || s.stopped {
		return ns, err
	}
	s.stopped = true
	return nil, dsr.Errorf(dsr.EUNAVAILABLE, "killed after the group's commit")
}

// TestHeldFreezeResumeCounts: a first attempt whose freeze step rides on
// the grouped delete's journal-ahead, stopped right after the group's
// commit (its done steps and verification still held), is resumed by a
// second attempt that certifies the counts of an uninterrupted run.
func TestHeldFreezeResumeCounts(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		app, eng := setupCounter(t, "sqlite", "")
		stop := &stopAfterGroup{Store: app}
		eng.Stores = map[string]connector.Store{"app": stop}
		st := openState(t, dialect)
		r, _, err := st.reqs.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		runner := &dsr.Runner{Store: st.runs, Executor: eng, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := runner.Run(ctx, r.ID, false); err == nil {
			t.Fatal("the first attempt was not stopped")
		}
		if !stop.stopped {
			t.Fatal("the erasure deleted no group")
		}
		if err := runner.Run(ctx, r.ID, true); err != nil {
			t.Fatal(err)
		}
		got, err := st.runs.Load(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"app.posts": 2, "app.accounts": 1}; got.Status != dsr.StatusCompleted || !maps.Equal(got.Counts, want) {
			t.Errorf("request %s, counts %v; want completed, %v", got.Status, got.Counts, want)
		}
	})
}

// stopAfterDelete deletes one batch by Delete, then fails the attempt as a
// kill would leave it.
type stopAfterDelete struct {
	*writing
	stopped bool
}

func (s *stopAfterDelete) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	n, err := s.writing.Delete(ctx, sel, limit, ahead)
	if err != nil || s.stopped {
		return n, err
	}
	s.stopped = true
	return 0, dsr.Errorf(dsr.EUNAVAILABLE, "killed after a batch")
}

// TestHeldFreezeGroupFullResumeCounts: a first attempt whose group took a
// whole batch (rows written since the erasure started) and was taken back, stopped
// after the first batch deleted one by one, is resumed to the counts of an
// uninterrupted run.
func TestHeldFreezeGroupFullResumeCounts(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		for _, d := range []string{"sqlite", "postgres"} {
			t.Run("app-"+d, func(t *testing.T) { groupFullResume(t, dialect, d) })
		}
	})
}

func groupFullResume(t *testing.T, dialect, d string) {
	ctx := context.Background()
	app, eng := setupCounter(t, d, "")
	eng.BatchSize = 5
	stop := &stopAfterDelete{writing: &writing{Store: app, t: t, rows: 6}}
	eng.Stores = map[string]connector.Store{"app": stop}
	st := openState(t, dialect)
	r, _, err := st.reqs.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	runner := &dsr.Runner{Store: st.runs, Executor: eng, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := runner.Run(ctx, r.ID, false); err == nil || !stop.stopped {
		t.Fatalf("the first attempt was not stopped after a batch: %v", err)
	}
	if err := runner.Run(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := st.runs.Load(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"app.posts": 8, "app.accounts": 1}; got.Status != dsr.StatusCompleted || !maps.Equal(got.Counts, want) {
		t.Errorf("request %s, counts %v; want completed, %v", got.Status, got.Counts, want)
	}
}

// takeOverAhead is the application's store whose grouped delete sees its
// request taken over by another process just before the transaction
// journals its deletes ahead.
type takeOverAhead struct {
	*sqlstore.Store
	st    *stateEnv
	id    string
	taken bool
}

func (s *takeOverAhead) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	return s.Store.DeleteEach(ctx, sels, limit, func(ns []int64) error {
		if err := s.st.db.Gorm.Exec(`UPDATE lethe_requests SET process_id = 'another' WHERE id = ?`, s.id).Error; err != nil {
			return err
		}
		s.taken = true
		return ahead(ns)
	})
}

// TestGroupTakenOverTakesDeletesBack: the group's journal entry ahead,
// fenced out (the request taken over by another process), takes the
// group's deletes back: Ada's rows are all still there for the process
// that has the request now.
func TestGroupTakenOverTakesDeletesBack(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		app, eng := setupCounter(t, "sqlite", "")
		st := openState(t, dialect)
		r, _, err := st.reqs.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		w := &takeOverAhead{Store: app, st: st, id: r.ID}
		eng.Stores = map[string]connector.Store{"app": w}
		runner := &dsr.Runner{Store: st.runs, Executor: eng, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		_ = runner.Run(ctx, r.ID, false)
		if !w.taken {
			t.Fatal("the erasure deleted no group")
		}
		if got := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["1"] ["2"]] [["1"] ["2"] ["3"]]` {
			t.Errorf("rows after the takeover %s; want all of them, the group taken back", got)
		}
	})
}
