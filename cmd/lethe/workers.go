package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// newQueue builds the workers: requests run by the registry's engine (or
// fail without a registry), retention sweeps on the registry's schedule and
// the periodic jobs, all on the elected leader only.
func (m *Main) newQueue(ctx context.Context, svc *services, self *selfservice.Service, obs retention.Observer, runs *periodicRuns, opts serveOptions) (*queue.Queue, error) {
	periodic := []queue.Periodic{selfSweep(self)}
	if m.Exports != nil {
		periodic = append(periodic, exportSweep(svc, m.Exports, m.Logger))
	}
	var executor dsr.Executor = dsr.NoRegistryExecutor{}
	var sweep queue.Sweeper
	var schedule queue.Schedule
	if m.App != nil {
		executor = m.App.Engine
		s, err := retention.ParseSchedule(m.App.Registry.Schedule.Cron)
		if err != nil {
			return nil, fmt.Errorf("registry %s: retention.schedule: %w", m.Config.Registry, err)
		}
		sw := svc.sweeper(m.App, sweepOptions{Observer: obs, Logger: m.Logger})
		sweep, schedule = afterPeople(m.People, queueSweep(sw, m.Logger)), s
		// The purge of tenants that stopped collecting responses: the same
		// sweeper, every opts.responsesEvery.
		periodic = append(periodic, responsesSweep(sw, opts.responsesEvery, m.Logger))
	}
	notifiers := dsr.EndObservers{self}
	if m.People != nil { // an erased person leaves the dictionary of known people
		notifiers = append(notifiers, m.People)
	}
	if svc.Audit.Anchor != nil { // checkpoints regularly and after each completed erasure
		notifiers = append(notifiers, state.Checkpointer{Audit: svc.Audit})
		periodic = append(periodic, queue.Periodic{Name: "audit-checkpoint", Every: auditCheckpointEvery,
			Run: func(ctx context.Context) error { _, err := svc.Audit.Checkpoint(ctx); return err }})
	}
	periodic = append(periodic, auditVerifyJob(svc.Audit, opts.auditVerifyEvery, m.Logger))
	runner := &dsr.Runner{Store: svc.Execution, Executor: executor, Now: time.Now, Logger: m.Logger,
		Holds: svc.Holds, Observer: notifiers}
	cfg := queue.Config{DB: m.DB, Logger: m.Logger, Workers: m.Workers, Runner: runner,
		Sweep: sweep, Schedule: schedule, Periodic: runs.count(periodic, m.Logger), Callbacks: m.opendsrCallbacks()}
	if life := svc.Life; life != nil {
		cfg.Process, cfg.Heartbeat, cfg.DeadAfter, cfg.Exclusive = life.Process, life.Every, life.Processes.DeadAfter, life.Exclusive
	}
	return queue.New(ctx, cfg)
}
