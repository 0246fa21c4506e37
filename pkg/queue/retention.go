package queue

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"
)

// RetentionQueue is River's queue for sweeps: one worker per process, and
// the schedule enqueues only on the elected leader, so replicas sharing a
// Postgres never sweep twice for one tick.
const RetentionQueue = "retention"

// RetentionArgs is the job that runs one retention sweep: a queued run
// (RunID) or, from the schedule, a new one.
type RetentionArgs struct {
	RunID string `json:"run_id,omitempty"`
}

// Kind implements river.JobArgs.
func (RetentionArgs) Kind() string { return "lethe.retention" }

// Sweeper runs a sweep for the queue: the queued run runID, or a new
// scheduled one when runID is "". Its errors are logged, not retried: a
// failed sweep is recorded and the next one resumes it. The exception is a
// sweep interrupted because its process stops: it returns ctx's error, and
// River makes the job available again at once (not counting the attempt),
// so that a live process carries the run on from its cursor within
// seconds, not at the next schedule.
type Sweeper func(ctx context.Context, runID string) error

// Schedule gives the next tick after t; robfig/cron's Schedule is one.
type Schedule interface {
	Next(t time.Time) time.Time
}

// sweepTimeout bounds one sweep job; a sweep saves its progress batch by
// batch and the next one resumes it.
const sweepTimeout = 6 * time.Hour

func retentionOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: RetentionQueue, MaxAttempts: 1}
}

// EnqueueRetention inserts the job of queued run id inside tx.
func (q *Queue) EnqueueRetention(ctx context.Context, tx *sql.Tx, id string) error {
	return insertRetention(ctx, q.client, tx, id)
}

// periodicRetention is the scheduled sweep: River runs its constructor on
// the elected leader only.
func periodicRetention(s Schedule) *river.PeriodicJob {
	return river.NewPeriodicJob(s, func() (river.JobArgs, *river.InsertOpts) {
		return RetentionArgs{}, retentionOpts()
	}, &river.PeriodicJobOpts{ID: "lethe.retention"})
}

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	sweep Sweeper
}

func (w *retentionWorker) Timeout(*river.Job[RetentionArgs]) time.Duration { return sweepTimeout }

func (w *retentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	return w.sweep(ctx, job.Args.RunID)
}
