package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/retention"
)

// sweepOptions are what differ between the service's sweeper and the
// command's: metrics, log, progress, batch size, and where the run is
// recorded (nil: the state store).
type sweepOptions struct {
	Observer  retention.Observer
	Logger    *slog.Logger
	Progress  func(*retention.Run)
	BatchSize int
	Runs      retention.RunLog
}

// sweeper returns the Sweeper over app's stores. The files of purged rows
// are deleted from app's blob stores after their rows; one that fails (or
// whose store is not configured) stays pending in the run's report.
func (s *services) sweeper(app *appStores, o sweepOptions) *retention.Sweeper {
	stores := make(map[string]retention.Store, len(app.Stores)+len(app.Mongo))
	for name, st := range app.Stores {
		stores[name] = st
	}
	for name, st := range app.Mongo {
		stores[name] = st
	}
	files := retention.DeleteFileFunc(func(ctx context.Context, store, key string) error {
		bs := app.Blobs[store]
		if bs == nil {
			return fmt.Errorf("blob store %s is not configured", store)
		}
		_, err := bs.Delete(ctx, key)
		return err
	})
	var runs retention.RunLog = s.Runs
	if o.Runs != nil {
		runs = o.Runs
	}
	return &retention.Sweeper{Registry: app.Registry, Stores: stores, Engine: app.Engine, Runs: runs,
		Holds: s.Holds, Settings: s.Settings, Files: files, Observer: o.Observer, Logger: o.Logger, Now: time.Now,
		Redactors: s.Redactors, Progress: o.Progress, BatchSize: o.BatchSize}
}

// responsesSweep is the periodic work that purges the responses of the
// tenants that stopped collecting them (Sweeper.RunResponses), every
// interval on the elected leader. Like queueSweep it logs failures: the
// next tick resumes a failed run.
func responsesSweep(sw *retention.Sweeper, every time.Duration, log *slog.Logger) queue.Periodic {
	return queue.Periodic{Name: "lethe.responses", Every: every, Run: func(ctx context.Context) error {
		run, err := sw.RunResponses(ctx, retention.Options{Trigger: retention.TriggerSchedule, Actor: "schedule"})
		switch {
		case dsr.ErrorCode(err) == dsr.ECONFLICT && run == nil:
			log.Info("responses sweep not started", "reason", dsr.ErrorMessage(err))
		case err != nil && run != nil:
			log.Warn("responses sweep failed; the next one resumes it", "run", run.ID, "error", err)
		case err != nil:
			log.Warn("responses sweep did not start", "error", err)
		case run != nil:
			log.Info("responses sweep completed", "run", run.ID, "rows_purged", run.Totals().RowsPurged)
		}
		return nil
	}}
}

// queueSweep adapts a Sweeper to the job queue: a queued run by id, or a
// scheduled one. A sweep that cannot start because another is running is
// not an error; a failed sweep is recorded and resumed by the next one. A
// sweep interrupted by ctx (this process stops) returns ctx's error: the
// queue gives its job to a live process, which carries the run on.
func queueSweep(sw *retention.Sweeper, log *slog.Logger) func(ctx context.Context, runID string) error {
	return func(ctx context.Context, runID string) error {
		o := retention.Options{ID: runID, Trigger: retention.TriggerSchedule, Actor: "schedule"}
		if runID != "" {
			o.Trigger, o.Actor = retention.TriggerAPI, "" // Begin keeps the queued run's own
		}
		run, err := sw.Run(ctx, o)
		switch {
		case dsr.ErrorCode(err) == dsr.ECONFLICT && run == nil:
			log.Info("retention sweep not started", "reason", dsr.ErrorMessage(err))
		case errors.Is(err, retention.ErrTakenOver):
			log.Warn("retention sweep taken over by another process; it carries the run on", "run", run.ID)
		case err != nil && ctx.Err() != nil:
			log.Warn("retention sweep interrupted; a live process carries it on", "queued_run", runID)
			return ctx.Err()
		case err != nil && run == nil:
			log.Warn("retention sweep did not start", "queued_run", runID, "error", err)
		case err != nil:
			log.Warn("retention sweep failed; the next one resumes it", "run", run.ID, "error", err)
		}
		return nil
	}
}
