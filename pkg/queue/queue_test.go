package queue_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// countingExecutor completes every request and counts executions per id.
type countingExecutor struct {
	mu    sync.Mutex
	runs  map[string]int
	delay time.Duration
}

func (e *countingExecutor) Execute(ctx context.Context, r *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	e.mu.Lock()
	e.runs[r.ID]++
	e.mu.Unlock()
	time.Sleep(e.delay)
	return &dsr.Outcome{Counts: map[string]int64{"app.users": 1}, Verification: &dsr.Verification{Passed: true}}, nil
}

func (e *countingExecutor) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[id]
}

// blockingExecutor journals that it started, then blocks until killed.
type blockingExecutor struct{}

func (blockingExecutor) Execute(ctx context.Context, r *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	if err := j.SaveStep(ctx, dsr.Step{Name: "blocked", Status: "running"}); err != nil {
		return nil, err
	}
	select {} // a worker that hangs until its process is killed
}

const subjectKey = "a-test-subject-key-of-32-characters!!"

// server is one "replica": its own pool on the shared store and a queue.
type server struct {
	db        *state.DB
	requests  *state.RequestService
	execution *state.ExecutionStore
	queue     *queue.Queue
}

func newServer(t *testing.T, url string, exec dsr.Executor, cfg queue.Config) *server {
	t.Helper()
	ctx := context.Background()
	db, err := state.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	audit := &state.AuditLog{DB: db}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// As lethe serve does: the enqueuer first, the stores with it, the
	// workers last.
	enq, err := queue.NewEnqueuer(ctx, queue.EnqueuerConfig{DB: db, Logger: log, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{db: db}
	s.requests = &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte(subjectKey)), Audit: audit, Enqueue: enq.Request}
	s.execution = &state.ExecutionStore{DB: db, Audit: audit, Requests: s.requests}
	cfg.DB, cfg.Logger = db, log
	cfg.Runner = &dsr.Runner{Store: s.execution, Executor: exec, Now: time.Now, Logger: log}
	cfg.PollInterval = 50 * time.Millisecond
	if s.queue, err = queue.New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	if err := s.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.queue.Stop(ctx)
	})
}

func (s *server) file(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		r, _, err := s.requests.Create(context.Background(), dsr.Caller{Admin: true},
			dsr.NewRequest{Type: dsr.TypeErasure, Email: fmt.Sprintf("person%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// waitStatus polls until request id reaches want or the deadline passes.
func (s *server) waitStatus(t *testing.T, id string, want dsr.Status, within time.Duration) *dsr.Request {
	t.Helper()
	var r *dsr.Request
	testkit.Eventually(t, within, fmt.Sprintf("request %s %s", id, want), func() error {
		var err error
		if r, err = s.execution.Load(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			return fmt.Errorf("it is %s", r.Status)
		}
		return nil
	})
	return r
}

// riverJob is the row River keeps of a request's job.
type riverJob struct {
	state   string
	attempt int
}

// finalJob waits until River has finalised the job of request id
// (completed, cancelled or discarded: it is never tried again) and
// returns it.
func (s *server) finalJob(t *testing.T, id string, within time.Duration) riverJob {
	t.Helper()
	arg := "json_extract(args, '$.request_id')"
	if s.db.Dialect == state.Postgres {
		arg = "args->>'request_id'"
	}
	var job riverJob
	testkit.Eventually(t, within, "the job of request "+id+" finalised", func() error {
		err := s.db.SQL.QueryRow(`SELECT state, attempt FROM river_job WHERE kind = 'lethe.request' AND `+arg+` = $1`, id).
			Scan(&job.state, &job.attempt)
		if err == nil && job.state != "completed" && job.state != "cancelled" && job.state != "discarded" {
			err = fmt.Errorf("it is %s after %d attempt(s)", job.state, job.attempt)
		}
		return err
	})
	return job
}

// TestTwoServersRunEachRequestOnce runs two replicas on one Postgres and
// checks that every request is executed exactly once and completes.
func TestTwoServersRunEachRequestOnce(t *testing.T) {
	t.Parallel()
	url := testdb.Postgres(t)
	counter := &countingExecutor{runs: map[string]int{}, delay: 20 * time.Millisecond}
	a := newServer(t, url, counter, queue.Config{Workers: 4})
	b := newServer(t, url, counter, queue.Config{Workers: 4})
	ids := append(a.file(t, 20), b.file(t, 20)...)
	a.start(t)
	b.start(t)
	for _, id := range ids {
		r := a.waitStatus(t, id, dsr.StatusCompleted, 30*time.Second)
		if got := counter.count(id); got != 1 {
			t.Errorf("request %s executed %d times; want 1", id, got)
		}
		if r.Attempts != 1 {
			t.Errorf("request %s took %d attempts; want 1", id, r.Attempts)
		}
	}
	entries, err := (&state.AuditLog{DB: a.db}).List(context.Background(), dsr.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]int{}
	for _, e := range entries {
		if e.Action == "request.running" {
			running[e.RequestID]++
		}
	}
	for _, id := range ids {
		if running[id] != 1 {
			t.Errorf("request %s has %d request.running audit entries; want 1", id, running[id])
		}
	}
}

// lifelineCfg beats fast so that tests see a death within a second.
var lifelineCfg = queue.Config{Workers: 1, Heartbeat: 200 * time.Millisecond, DeadAfter: time.Second}

// TestKilledWorkerIsPickedUpAgain starts a worker in a child process and
// lets it run a request slowly while a second replica watches: a live
// worker, however slow, is not rescued. Then it kills the child (SIGKILL)
// and checks that the other replica resumes the request within seconds of
// the death, long before River's own rescue timer, and completes it.
func TestKilledWorkerIsPickedUpAgain(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		url := testkit.StateURL(t, dialect)
		counter := &countingExecutor{runs: map[string]int{}}
		parent := newServer(t, url, counter, lifelineCfg)
		id := parent.file(t, 1)[0]

		child := exec.Command(os.Args[0], "-test.run=^TestHelperBlockingWorker$")
		child.Env = append(os.Environ(), "LETHE_HELPER_STATE_URL="+url)
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		parent.waitStatus(t, id, dsr.StatusRunning, 30*time.Second)
		waitStep(t, parent.execution.Journal(id), "blocked")
		parent.start(t)
		time.Sleep(4 * lifelineCfg.DeadAfter) // the slow child keeps beating
		if r := parent.waitStatus(t, id, dsr.StatusRunning, time.Second); counter.count(id) != 0 || r.Attempts != 1 {
			t.Fatalf("a live, slow worker's request was taken over: %d runs elsewhere, %d attempts", counter.count(id), r.Attempts)
		}
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		killed := time.Now()

		r := parent.waitStatus(t, id, dsr.StatusCompleted, 30*time.Second)
		if took := time.Since(killed); took > 5*time.Second {
			t.Errorf("request resumed %s after the kill; want within DeadAfter plus a beat or two", took)
		}
		if got := counter.count(id); got != 1 {
			t.Errorf("surviving worker executed the request %d times; want 1", got)
		}
		if r.Attempts != 2 {
			t.Errorf("attempts = %d; want 2 (the killed one and the rescue)", r.Attempts)
		}
	})
}

func waitStep(t *testing.T, j dsr.Journal, name string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, "step "+name+" journaled", func() error {
		steps, err := j.Steps(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if s.Name == name {
				return nil
			}
		}
		return fmt.Errorf("%d other step(s)", len(steps))
	})
}

// TestHelperBlockingWorker is the child process of
// TestKilledWorkerIsPickedUpAgain; it does nothing when run on its own.
func TestHelperBlockingWorker(t *testing.T) {
	url := os.Getenv("LETHE_HELPER_STATE_URL")
	if url == "" {
		return
	}
	s := newServer(t, url, blockingExecutor{}, lifelineCfg)
	s.start(t)
	select {}
}

// flakyExecutor fails with a store outage a number of times, then succeeds.
type flakyExecutor struct {
	mu       sync.Mutex
	failures int
	calls    int
}

func (e *flakyExecutor) Execute(ctx context.Context, r *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.calls <= e.failures {
		return nil, dsr.Errorf(dsr.EUNAVAILABLE, "store app is unreachable")
	}
	return &dsr.Outcome{Counts: map[string]int64{}, Verification: &dsr.Verification{Passed: true}}, nil
}

// TestRetriesWithBackoff checks that a store outage is retried after the
// backoff and that a request fails, naming the store, once attempts run out.
func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	url := "sqlite://" + testdb.SQLite(t)
	var waits []int
	var mu sync.Mutex
	backoff := func(attempt int) time.Duration {
		mu.Lock()
		waits = append(waits, attempt)
		mu.Unlock()
		return 100 * time.Millisecond
	}
	recovers := &flakyExecutor{failures: 2}
	s := newServer(t, url, recovers, queue.Config{MaxAttempts: 3, Backoff: backoff})
	id := s.file(t, 1)[0]
	s.start(t)
	r := s.waitStatus(t, id, dsr.StatusCompleted, 30*time.Second)
	if r.Attempts != 3 {
		t.Errorf("attempts = %d; want 3", r.Attempts)
	}
	mu.Lock()
	if len(waits) != 2 || waits[0] != 1 || waits[1] != 2 {
		t.Errorf("backoff asked for attempts %v; want [1 2]", waits)
	}
	mu.Unlock()

	down := &flakyExecutor{failures: 100}
	s2 := newServer(t, "sqlite://"+testdb.SQLite(t), down, queue.Config{MaxAttempts: 3, Backoff: backoff})
	id2 := s2.file(t, 1)[0]
	s2.start(t)
	r2 := s2.waitStatus(t, id2, dsr.StatusFailed, 30*time.Second)
	if r2.Err == nil || r2.Err.Code != dsr.EUNAVAILABLE || r2.Err.Message != "store app is unreachable" {
		t.Errorf("error = %+v; want unavailable naming store app", r2.Err)
	}
	down.mu.Lock()
	defer down.mu.Unlock()
	if down.calls != 3 {
		t.Errorf("executed %d times; want 3 (MaxAttempts)", down.calls)
	}
}

// takenOverExecutor finds its request taken over by another process.
type takenOverExecutor struct{ flakyExecutor }

func (e *takenOverExecutor) Execute(ctx context.Context, r *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	return nil, fmt.Errorf("journal: save step x: %w", dsr.ErrTakenOver)
}

// TestTakenOverAttemptStops: an attempt whose request another process has
// taken over stops without failing the request and is not retried (the
// other process owns the request now).
func TestTakenOverAttemptStops(t *testing.T) {
	t.Parallel()
	exec := &takenOverExecutor{}
	s := newServer(t, "sqlite://"+testdb.SQLite(t), exec, queue.Config{Backoff: func(int) time.Duration { return 50 * time.Millisecond }})
	id := s.file(t, 1)[0]
	s.start(t)
	s.waitStatus(t, id, dsr.StatusRunning, 30*time.Second)
	// Once River has finalised the job no retry can come.
	job := s.finalJob(t, id, 30*time.Second)
	if job.state != "completed" || job.attempt != 1 {
		t.Errorf("job %s after %d attempts; want completed after 1: a taken-over attempt is not retried", job.state, job.attempt)
	}
	if r := s.waitStatus(t, id, dsr.StatusRunning, time.Second); r.Attempts != 1 {
		t.Errorf("attempts = %d; want 1: a taken-over attempt is not retried", r.Attempts)
	}
	exec.mu.Lock()
	defer exec.mu.Unlock()
	if exec.calls != 1 {
		t.Errorf("executed %d times; want 1", exec.calls)
	}
}
