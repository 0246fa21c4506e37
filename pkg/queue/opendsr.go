package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/lethe-privacy/lethe/pkg/opendsr"
)

// CallbackQueue is River's queue for OpenDSR callbacks, apart from the
// requests' so that an unreachable controller never holds a request
// worker. It has one worker per process, so that jobs run in the order
// they were queued; a job that fails waits for its retry without holding
// the others back.
const CallbackQueue = "opendsr"

// callbackAttempts is how often a callback is tried: with River's backoff
// (attempt⁴ seconds) the last try comes about a day after the first.
const callbackAttempts = 14

// CallbackArgs is the job that sends one OpenDSR callback.
type CallbackArgs struct {
	opendsr.CallbackJob
}

// Kind implements river.JobArgs.
func (CallbackArgs) Kind() string { return "lethe.opendsr.callback" }

// Callbacks sends one OpenDSR callback job, retry telling whether an
// earlier attempt failed; an error is retried with backoff.
type Callbacks func(ctx context.Context, job opendsr.CallbackJob, retry bool) error

// EnqueueCallbacks inserts jobs inside tx; it implements
// opendsr.EnqueueCallbacks.
func (q *Queue) EnqueueCallbacks(ctx context.Context, tx *sql.Tx, jobs []opendsr.CallbackJob) error {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: CallbackArgs{j},
			InsertOpts: &river.InsertOpts{Queue: CallbackQueue, MaxAttempts: callbackAttempts}}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: enqueue opendsr callbacks: %w", err)
	}
	return nil
}

type callbackWorker struct {
	river.WorkerDefaults[CallbackArgs]
	send Callbacks
}

func (w *callbackWorker) Timeout(*river.Job[CallbackArgs]) time.Duration { return time.Minute }

func (w *callbackWorker) Work(ctx context.Context, job *river.Job[CallbackArgs]) error {
	if w.send == nil {
		return errors.New("queue: OpenDSR is off (LETHE_OPENDSR_KEY unset); the callback waits for it")
	}
	return w.send(ctx, job.Args.CallbackJob, job.Attempt > 1)
}
