// Package queue runs data-subject requests on River, a job queue kept in
// Lethe's own state store (Postgres in production, SQLite embedded). A
// request's job is inserted in the transaction that stores the request, so
// neither exists without the other; River's row locks (FOR UPDATE SKIP
// LOCKED on Postgres) hand each job to one worker across replicas and retry
// failed attempts with backoff. Around River, each process keeps a
// heartbeat in the state store, and the jobs of a process that stopped
// beating are given back to River within seconds (lifeline.go).
package queue

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// RequestArgs is the job that executes one request.
type RequestArgs struct {
	RequestID string `json:"request_id"`
}

// Kind implements river.JobArgs.
func (RequestArgs) Kind() string { return "lethe.request" }

// Config configures a Queue. Zero fields take the defaults noted.
type Config struct {
	DB     *state.DB
	Runner *dsr.Runner
	Logger *slog.Logger
	// RiverLogger receives River's own log at every level it writes
	// (leader elections, fetches); default Logger at warnings and above.
	RiverLogger *slog.Logger
	// Workers is how many requests run at once in this process (default 4).
	Workers int
	// MaxAttempts is how often a request is tried before it fails (default 8).
	MaxAttempts int
	// JobTimeout bounds one attempt (default 1h: a large erasure takes long).
	JobTimeout time.Duration
	// RescueAfter is River's own rescue of a job still running after this
	// long, kept only for jobs of processes without a heartbeat row (an
	// older Lethe): default 7h, past every job's timeout, so a live worker,
	// cancelled by its timeout first, is never rescued. It must exceed
	// JobTimeout.
	RescueAfter time.Duration
	// Process is this process's identity in the heartbeat table and its
	// River client id (default state.NewProcess()).
	Process state.Process
	// Heartbeat is how often the process renews its heartbeat and rescues
	// the jobs of dead processes (default DefaultHeartbeat).
	Heartbeat time.Duration
	// DeadAfter is how long a process may go without a beat before its jobs
	// are rescued (default state.DefaultDeadAfter); at least 2×Heartbeat.
	DeadAfter time.Duration
	// Exclusive says this process alone serves the state store (a SQLite
	// store under state.LockServe): Start then resumes at once every job
	// the previous process left running.
	Exclusive bool
	// PollInterval is how often idle workers look for new jobs (default 1s).
	PollInterval time.Duration
	// Backoff is the wait before retry number attempt (1-based); default
	// River's, attempt⁴ seconds with jitter.
	Backoff func(attempt int) time.Duration
	// Sweep, when set, works retention jobs (see retention.go).
	Sweep Sweeper
	// Schedule, with Sweep, enqueues a sweep at every tick on the elected
	// leader only.
	Schedule Schedule
	// Periodic lists other work run on the elected leader (see periodic.go).
	Periodic []Periodic
	// Callbacks works OpenDSR callback jobs (see opendsr.go); nil fails
	// them for a later retry.
	Callbacks Callbacks
}

func (c *Config) validate() error {
	switch {
	case c.DB == nil:
		return errors.New("queue: Config.DB is required")
	case c.Runner == nil:
		return errors.New("queue: Config.Runner is required")
	case c.Workers < 0 || c.MaxAttempts < 0:
		return errors.New("queue: Config.Workers and Config.MaxAttempts must not be negative")
	}
	c.Workers = cmp.Or(c.Workers, 4)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, defaultMaxAttempts)
	c.JobTimeout = cmp.Or(c.JobTimeout, time.Hour)
	c.RescueAfter = cmp.Or(c.RescueAfter, max(c.JobTimeout, sweepTimeout)+time.Hour)
	c.Heartbeat = cmp.Or(c.Heartbeat, DefaultHeartbeat)
	c.DeadAfter = cmp.Or(c.DeadAfter, state.DefaultDeadAfter)
	if c.Process.ID == "" {
		c.Process = state.NewProcess()
	}
	c.PollInterval = cmp.Or(c.PollInterval, time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.RescueAfter <= c.JobTimeout {
		return errors.New("queue: Config.RescueAfter must be longer than Config.JobTimeout")
	}
	if c.DeadAfter < 2*c.Heartbeat {
		return errors.New("queue: Config.DeadAfter must be at least twice Config.Heartbeat, or a late beat kills a live process")
	}
	return nil
}

// defaultMaxAttempts is how often a request is tried before it fails.
const defaultMaxAttempts = 8

// Queue is the request queue of one process.
type Queue struct {
	client   *river.Client[*sql.Tx]
	lifeline *lifeline
}

// New migrates River's tables and returns a Queue that is not yet working;
// Start begins work. Enqueue works before Start.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	driver, err := migrate(ctx, cfg.DB, cfg.Logger)
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &requestWorker{runner: cfg.Runner, timeout: cfg.JobTimeout})
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	var periodic []*river.PeriodicJob
	if cfg.Sweep != nil {
		river.AddWorker(workers, &retentionWorker{sweep: cfg.Sweep})
		queues[RetentionQueue] = river.QueueConfig{MaxWorkers: 1}
		if cfg.Schedule != nil {
			periodic = append(periodic, periodicRetention(cfg.Schedule))
		}
	}
	// Always registered: callbacks queued while OpenDSR was on wait, with
	// backoff, for it to be on again. One worker: jobs are then taken in
	// the order they were queued, so a backlog (after a restart) reaches
	// a controller in the order the statuses happened.
	river.AddWorker(workers, &callbackWorker{send: cfg.Callbacks})
	queues[CallbackQueue] = river.QueueConfig{MaxWorkers: 1}
	periodic = append(periodic, periodicJobs(workers, cfg.Periodic)...)
	client, err := river.NewClient(driver, &river.Config{
		ID:                   cfg.Process.ID,
		Logger:               cmp.Or(cfg.RiverLogger, quiet(cfg.Logger)),
		Queues:               queues,
		PeriodicJobs:         periodic,
		Workers:              workers,
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, 100*time.Millisecond),
		PollOnly:             true,
		RetryPolicy:          retryPolicy(cfg.Backoff),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	life := &lifeline{db: cfg.DB, procs: &state.Processes{DB: cfg.DB, DeadAfter: cfg.DeadAfter}, self: cfg.Process,
		every: cfg.Heartbeat, exclusive: cfg.Exclusive, log: cfg.Logger}
	return &Queue{client: client, lifeline: life}, nil
}

// quiet keeps River's own chatter at warnings and above.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{l.Handler(), slog.LevelWarn})
}

// Enqueue inserts the job of request id inside tx.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, id string) error {
	return insertRequest(ctx, q.client, tx, id)
}

// Process is this process's id in the heartbeat table.
func (q *Queue) Process() string { return q.lifeline.self.ID }

// Start records this process's first heartbeat, resumes the jobs that
// dead processes left running, and starts working jobs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.lifeline.start(ctx); err != nil {
		return err
	}
	if err := q.client.Start(ctx); err != nil {
		q.lifeline.close()
		return err
	}
	return nil
}

// Stop waits for running jobs to finish, up to ctx's deadline, then cancels
// them; a cancelled job is retried by whichever worker takes it next.
func (q *Queue) Stop(ctx context.Context) error {
	defer q.lifeline.close()
	if err := q.client.Stop(ctx); err != nil {
		return q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return nil
}

type requestWorker struct {
	river.WorkerDefaults[RequestArgs]
	runner  *dsr.Runner
	timeout time.Duration
}

func (w *requestWorker) Timeout(*river.Job[RequestArgs]) time.Duration { return w.timeout }

func (w *requestWorker) Work(ctx context.Context, job *river.Job[RequestArgs]) error {
	return w.runner.Run(ctx, job.Args.RequestID, job.Attempt >= job.MaxAttempts)
}

// backoffPolicy adapts a Backoff function to River's retry policy.
type backoffPolicy struct{ backoff func(int) time.Duration }

func (p backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.backoff(job.Attempt))
}

func retryPolicy(backoff func(int) time.Duration) river.ClientRetryPolicy {
	if backoff == nil {
		return &river.DefaultClientRetryPolicy{}
	}
	return backoffPolicy{backoff}
}
