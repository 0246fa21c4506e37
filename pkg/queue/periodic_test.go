package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestPeriodicRunsOnTheLeader: two replicas share one Postgres state store;
// periodic work (such as the export sweep) runs at start on the elected
// leader only, not once per replica.
func TestPeriodicRunsOnTheLeader(t *testing.T) {
	for _, url := range []string{"sqlite://" + filepath.Join(t.TempDir(), "state.db"), testdb.Postgres(t)} {
		var runs atomic.Int32
		work := queue.Periodic{Name: "export-sweep", Every: time.Hour, Run: func(context.Context) error {
			runs.Add(1)
			return nil
		}}
		replicas := 2
		if url[:6] == "sqlite" {
			replicas = 1 // SQLite is one process's store
		}
		elections := testkit.NewElections()
		var ids []string
		for range replicas {
			s := newServer(t, url, &countingExecutor{}, queue.Config{Periodic: []queue.Periodic{work}, RiverLogger: elections.Logger()})
			s.start(t)
			ids = append(ids, s.queue.Process())
		}
		// Once every replica has bid, the leader is known and the others
		// follow: only a second leader could run the work again.
		if won := elections.Decided(t, 20*time.Second, ids...); len(won) != 1 {
			t.Fatalf("%s: %d of %d replicas won their first election, want 1", url[:6], len(won), replicas)
		}
		testkit.Eventually(t, 20*time.Second, "periodic work run at start", func() error {
			if runs.Load() == 0 {
				return errors.New("not run")
			}
			return nil
		})
		if n := runs.Load(); n != 1 {
			t.Errorf("%s: periodic work ran %d times at start across %d replicas, want once", url[:6], n, replicas)
		}
	}
}
