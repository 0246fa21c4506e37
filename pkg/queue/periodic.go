package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Periodic is work run on the elected leader only, every Every and once at
// start, however many replicas share the state store (Config.Periodic).
type Periodic struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// PeriodicArgs is the job of one Periodic run.
type PeriodicArgs struct {
	Name string `json:"name"`
}

// Kind implements river.JobArgs.
func (PeriodicArgs) Kind() string { return "lethe.periodic" }

type periodicWorker struct {
	river.WorkerDefaults[PeriodicArgs]
	runs map[string]func(context.Context) error
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[PeriodicArgs]) error {
	run := w.runs[job.Args.Name]
	if run == nil {
		return river.JobCancel(fmt.Errorf("queue: no periodic work named %q", job.Args.Name))
	}
	return run(ctx)
}

// periodicJobs registers list's worker with workers and returns the River
// periodic jobs that enqueue its runs; none for an empty list.
func periodicJobs(workers *river.Workers, list []Periodic) []*river.PeriodicJob {
	if len(list) == 0 {
		return nil
	}
	w := &periodicWorker{runs: map[string]func(context.Context) error{}}
	var jobs []*river.PeriodicJob
	for _, p := range list {
		w.runs[p.Name] = p.Run
		args := PeriodicArgs{Name: p.Name}
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(p.Every),
			func() (river.JobArgs, *river.InsertOpts) { return args, &river.InsertOpts{MaxAttempts: 1} },
			&river.PeriodicJobOpts{RunOnStart: true, ID: p.Name}))
	}
	river.AddWorker(workers, w)
	return jobs
}
