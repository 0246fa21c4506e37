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
	var rows []stampRow
	for id := int64(1); id <= n; id++ {
		age := day
		if id%2 == 0 {
			age = 45 * day
		}
		rows = append(rows, stampRow{id, t0.Add(-age)})
	}
	fill := func(f *fixture, t *testing.T) {
		stampFill("DATETIME(6)", rows)(f, t)
		// The walk sizes its first window by the table's row estimate.
		if err := f.store.DB().Exec("ANALYZE TABLE chats").Error; err != nil {
			t.Fatal(err)
		}
	}
	f := newFixtureOf(t, registry.DriverMySQL, "", reg, fill)
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
