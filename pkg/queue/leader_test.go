package queue_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// leaderWork counts what a surviving process runs of the leader's work.
type leaderWork struct {
	mu     sync.Mutex
	sweeps []string
	outbox int
}

func (w *leaderWork) config() queue.Config {
	cfg := lifelineCfg
	cfg.Sweep = func(ctx context.Context, runID string) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.sweeps = append(w.sweeps, runID)
		return nil
	}
	cfg.Periodic = []queue.Periodic{{Name: "outbox", Every: time.Hour, Run: func(context.Context) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.outbox++
		return nil
	}}}
	return cfg
}

func (w *leaderWork) counts() ([]string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.sweeps...), w.outbox
}

// enqueueSweep queues the job of retention run id, as the API does.
func (s *server) enqueueSweep(t *testing.T, id string) {
	t.Helper()
	tx, err := s.db.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.queue.EnqueueRetention(context.Background(), tx, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until ok holds, failing t with what after within.
func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	testkit.Eventually(t, within, what, func() error {
		if !ok() {
			return errors.New("not yet")
		}
		return nil
	})
}

// TestLeaderWorkSurvivesItsDeath: the elected leader runs a sweep and a
// periodic job (both attempted once only) and is killed with SIGKILL while
// they run. The surviving process (on Postgres, a replica that watched
// without touching the live leader's work; on SQLite, the restart) runs
// the interrupted sweep and periodic job again within seconds, and becomes
// the leader, running the leader's work at its start, within 30 seconds.
func TestLeaderWorkSurvivesItsDeath(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		url := testkit.StateURL(t, dialect)
		work := &leaderWork{}
		cfg := work.config()
		cfg.Exclusive = dialect == state.SQLite // the restart on a store it serves alone
		survivor := newServer(t, url, &countingExecutor{runs: map[string]int{}}, cfg)
		survivor.enqueueSweep(t, "run-1")

		marks := t.TempDir()
		leader := exec.Command(os.Args[0], "-test.run=^TestHelperBlockingLeader$")
		leader.Env = append(os.Environ(), "LETHE_HELPER_LEADER_URL="+url, "LETHE_HELPER_MARKS="+marks)
		leader.Stderr = os.Stderr
		if err := leader.Start(); err != nil {
			t.Fatal(err)
		}
		marked := func(name string) func() bool {
			return func() bool { _, err := os.Stat(filepath.Join(marks, name)); return err == nil }
		}
		waitFor(t, 30*time.Second, "the leader runs the sweep", marked("sweep-run-1"))
		waitFor(t, 30*time.Second, "the leader runs its periodic work", marked("outbox"))

		if dialect == state.Postgres {
			survivor.start(t)
			time.Sleep(4 * lifelineCfg.DeadAfter)
			if sweeps, outbox := work.counts(); len(sweeps) != 0 || outbox != 0 {
				t.Fatalf("a replica ran the live leader's work: sweeps %v, outbox %d", sweeps, outbox)
			}
		}
		if err := leader.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		leader.Wait()
		killed := time.Now()
		if dialect == state.SQLite {
			survivor.start(t)
		}
		waitFor(t, 10*time.Second, "the interrupted sweep runs again", func() bool {
			sweeps, _ := work.counts()
			return len(sweeps) == 1 && sweeps[0] == "run-1"
		})
		t.Logf("sweep resumed %s after the kill", time.Since(killed).Round(time.Millisecond))
		waitFor(t, 10*time.Second, "the interrupted periodic job runs again", func() bool { _, n := work.counts(); return n >= 1 })
		waitFor(t, 30*time.Second, "a new leader runs the periodic work at its start", func() bool { _, n := work.counts(); return n >= 2 })
		if took := time.Since(killed); took > 30*time.Second {
			t.Errorf("a new leader ran the leader's work %s after the kill; want within 30s", took)
		} else {
			t.Logf("new leader's work ran %s after the kill", took.Round(time.Millisecond))
		}
		if sweeps, _ := work.counts(); len(sweeps) != 1 {
			t.Errorf("sweeps run %v; want run-1 once", sweeps)
		}
	})
}

// TestHelperBlockingLeader is the leader process of
// TestLeaderWorkSurvivesItsDeath: its sweep and periodic work mark that
// they started, then hang until the process is killed. It does nothing
// when run on its own.
func TestHelperBlockingLeader(t *testing.T) {
	url, marks := os.Getenv("LETHE_HELPER_LEADER_URL"), os.Getenv("LETHE_HELPER_MARKS")
	if url == "" {
		return
	}
	mark := func(name string) {
		if err := os.WriteFile(filepath.Join(marks, name), nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	cfg := lifelineCfg
	cfg.Sweep = func(ctx context.Context, runID string) error { mark("sweep-" + runID); select {} }
	cfg.Periodic = []queue.Periodic{{Name: "outbox", Every: time.Hour, Run: func(context.Context) error { mark("outbox"); select {} }}}
	s := newServer(t, url, blockingExecutor{}, cfg)
	s.start(t)
	select {}
}

// TestStoppedSweepIsHandedOn: a process stopped while it sweeps (a deploy,
// a scale-down) cancels the sweep, which records its cursor and returns;
// its job, attempted once only, goes back to the queue rather than being
// discarded, and the next process runs it at once to carry the run on,
// rather than leaving it until the next schedule.
func TestStoppedSweepIsHandedOn(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		url := testkit.StateURL(t, dialect)
		sweeping := make(chan string, 1)
		cfg := lifelineCfg
		cfg.Sweep = func(ctx context.Context, runID string) error {
			sweeping <- runID
			<-ctx.Done() // a long sweep, interrupted after its batch in flight
			return ctx.Err()
		}
		stopped := newServer(t, url, &countingExecutor{runs: map[string]int{}}, cfg)
		stopped.enqueueSweep(t, "run-1")
		if err := stopped.queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sweeping:
		case <-time.After(30 * time.Second):
			t.Fatal("the sweep did not start")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		stopped.queue.Stop(ctx) // past its grace the sweep is cancelled
		cancel()

		work := &leaderWork{}
		next := newServer(t, url, &countingExecutor{runs: map[string]int{}}, work.config())
		next.start(t)
		waitFor(t, 10*time.Second, "the next process carries the stopped sweep on", func() bool {
			sweeps, _ := work.counts()
			return len(sweeps) == 1 && sweeps[0] == "run-1"
		})
	})
}
