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

// rangeStore records the pages of every slice a range walk purges.
type rangeStore struct {
	*sqlstore.Store
	mu    sync.Mutex
	spans []int64
}

func (s *rangeStore) PurgeRange(ctx context.Context, sel connector.Selection, cols []string, from, to int64) (int64, [][]any, error) {
	s.mu.Lock()
	s.spans = append(s.spans, to-from)
	s.mu.Unlock()
	return s.Store.PurgeRange(ctx, sel, cols, from, to)
}

// TestRangeWalkStartsSmall sweeps 320 chats on MariaDB, every other one
// expired, by windows of the primary key: the first window spans a
// sixteenth of batch_size's rows (a first window of batch_size rows took
// seconds on a large table), later ones grow, and exactly the expired
// chats are purged.
func TestRangeWalkStartsSmall(t *testing.T) {
	const n, batch = 320, 64
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
	st := &rangeStore{Store: f.store}
	sw := f.sweeper(st)
	sw.BatchSize, sw.BatchTarget = batch, time.Hour
	run, err := sw.Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.spans) == 0 {
		t.Fatal("the sweep did not walk primary-key windows")
	}
	if st.spans[0] > batch/16 || slices.Max(st.spans) <= batch/16 {
		t.Fatalf("windows %v; want a first of at most %d keys, growing after", st.spans, batch/16)
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
