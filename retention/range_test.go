package retention_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// rangeStore records the pages of every slice a range walk purges; the
// first slice takes at least slow more.
type rangeStore struct {
	*sqlstore.Store
	slow  time.Duration
	mu    sync.Mutex
	spans []int64
}

func (s *rangeStore) PurgeRange(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, from, to int64) (int64, [][]any, error) {
	s.mu.Lock()
	s.spans = append(s.spans, to-from)
	first := len(s.spans) == 1
	s.mu.Unlock()
	if first {
		time.Sleep(s.slow)
	}
	return s.Store.PurgeRange(ctx, sel, cols, via, from, to)
}

// TestRangeWalkCutsToThePace sweeps 320 chats on MariaDB, every other one
// expired, by windows of the primary key, with a first window twenty
// times slower than the target: the next window is cut to the pace (the
// batch loop alone would halve it), and exactly the expired chats are
// purged.
func TestRangeWalkCutsToThePace(t *testing.T) {
	const n, batch, target = 320, 64, 10 * time.Millisecond
	reg := fmt.Sprintf(stampRegistry, registry.DriverMySQL, "30d", "created_at")
	f := newFixtureOf(t, registry.DriverMySQL, "", reg, evenExpired(n, "DATETIME(6)", "ANALYZE TABLE chats"))
	st := &rangeStore{Store: f.store, slow: 20 * target}
	sw := f.sweeper(st)
	sw.BatchSize, sw.BatchTarget = batch, target
	run, err := sw.Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.spans) < 2 {
		t.Fatalf("windows %v; want a walk of primary-key windows", st.spans)
	}
	if st.spans[1] >= st.spans[0]/2 {
		t.Fatalf("windows %v; want the second well under half the first, which took twenty targets", st.spans)
	}
	var want []string
	for id := 1; id <= n; id += 2 {
		want = append(want, strconv.Itoa(id))
	}
	slices.Sort(want) // as f.ids orders them
	if got := f.ids(t, "chats"); !slices.Equal(got, want) || run.Totals().RowsPurged != n/2 {
		t.Fatalf("purged %d, left %v; want the %d odd ids", run.Totals().RowsPurged, got, n/2)
	}
}

// TestRangeWalkPausesOnlyAfterASlowSlice sweeps 2,000 chats on Postgres,
// every other one expired, page slice by page slice, the first slice
// taking twice the target: the walk pauses after that slice and after no
// other, and exactly the expired chats are purged.
func TestRangeWalkPausesOnlyAfterASlowSlice(t *testing.T) {
	const n, batch, target = 2000, 100, 200 * time.Millisecond
	reg := fmt.Sprintf(stampRegistry, registry.DriverPostgres, "30d", "created_at")
	f := newFixtureOf(t, registry.DriverPostgres, "", reg, evenExpired(n, "TIMESTAMPTZ", "ANALYZE chats"))
	st := &rangeStore{Store: f.store, slow: 2 * target}
	sw := f.sweeper(st)
	var pauses []time.Duration
	sw.BatchSize, sw.BatchTarget, sw.Pause = batch, target, 10*time.Millisecond
	sw.Sleep = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
	run, err := sw.Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.spans) < 3 || len(pauses) != 1 {
		t.Fatalf("slices %v, %d pauses; want at least three slices and one pause, after the slow first", st.spans, len(pauses))
	}
	if got := f.ids(t, "chats"); len(got) != n/2 || run.Totals().RowsPurged != n/2 {
		t.Fatalf("purged %d, %d left; want %d of each", run.Totals().RowsPurged, len(got), n/2)
	}
}

// evenExpired fills chats 1..n, created_at of type typ, the even ones 45
// days old and the odd ones a day, then runs analyze: a range walk sizes
// its first slice by the table's row estimate.
func evenExpired(n int64, typ, analyze string) func(*fixture, *testing.T) {
	var rows []stampRow
	for id := int64(1); id <= n; id++ {
		age := day
		if id%2 == 0 {
			age = 45 * day
		}
		rows = append(rows, stampRow{id, t0.Add(-age)})
	}
	return func(f *fixture, t *testing.T) {
		stampFill(typ, rows)(f, t)
		if err := f.store.DB().Exec(analyze).Error; err != nil {
			t.Fatal(err)
		}
	}
}
