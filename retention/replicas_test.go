package retention_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// onceSchedule fires once, shortly after it is first asked, then never.
type onceSchedule struct {
	mu    sync.Mutex
	first time.Time
}

func (s *onceSchedule) Next(t time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() {
		s.first = t.Add(500 * time.Millisecond)
		return s.first
	}
	return t.Add(24 * time.Hour)
}

// TestTwoReplicasSweepOnce runs two replicas (own pools, own River
// clients) on one Postgres state store, both with the periodic sweep, and
// checks that the tick sweeps once: only the elected leader enqueues.
func TestTwoReplicasSweepOnce(t *testing.T) {
	t.Parallel()
	url := testdb.Postgres(t)
	f := newFixture(t, "postgres", url)
	setupPolicies(t, f)
	var sweeps atomic.Int32
	elections := testkit.NewElections()
	var replicas []string
	log := quiet
	for range 2 {
		db, err := state.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return t0 }
		audit := &state.AuditLog{DB: db}
		sw := f.sweeper(nil)
		sw.Runs = &state.RetentionRuns{DB: db, Audit: audit, Subject: f.hasher}
		sw.Holds, sw.Settings = &state.Holds{DB: db, Audit: audit}, &state.TenantSettings{DB: db, Audit: audit}
		q, err := queue.New(context.Background(), queue.Config{DB: db, Logger: log, RiverLogger: elections.Logger(), PollInterval: 50 * time.Millisecond,
			Runner: &dsr.Runner{Logger: log, Now: time.Now}, Schedule: &onceSchedule{},
			Sweep: func(ctx context.Context, runID string) error {
				sweeps.Add(1)
				_, err := sw.Run(ctx, retention.Options{ID: runID, Trigger: retention.TriggerSchedule})
				return err
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, q.Process())
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			q.Stop(ctx)
		})
	}
	// Once both replicas have bid, one leads and the other follows: only a
	// second leader could enqueue a second sweep.
	if won := elections.Decided(t, 60*time.Second, replicas...); len(won) != 1 {
		t.Fatalf("%d of 2 replicas won their first election, want 1", len(won))
	}
	testkit.Eventually(t, 60*time.Second, "a completed scheduled sweep", func() error {
		page, err := f.parts.runs.Runs(context.Background(), retention.RunFilter{})
		if err == nil && (len(page.Items) == 0 || page.Items[0].Status != retention.StatusCompleted) {
			err = fmt.Errorf("%d run(s), none completed", len(page.Items))
		}
		return err
	})
	page, err := f.parts.runs.Runs(context.Background(), retention.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || sweeps.Load() != 1 {
		t.Fatalf("%d runs recorded, %d sweeps worked; want 1 and 1", len(page.Items), sweeps.Load())
	}
	if r := page.Items[0]; r.Trigger != retention.TriggerSchedule || r.Totals().RowsPurged != 14 {
		t.Errorf("scheduled run: trigger %q purged %d; want schedule and 14", r.Trigger, r.Totals().RowsPurged)
	}
}
