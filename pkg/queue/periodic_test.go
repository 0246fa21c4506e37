package queue_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/testdb"
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
		for range replicas {
			s := newServer(t, url, &countingExecutor{}, queue.Config{Periodic: []queue.Periodic{work}})
			s.start(t)
		}
		deadline := time.Now().Add(20 * time.Second)
		for runs.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // a second leader would have run by now
		if n := runs.Load(); n != 1 {
			t.Errorf("%s: periodic work ran %d times at start across %d replicas, want once", url[:6], n, replicas)
		}
	}
}
