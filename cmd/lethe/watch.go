package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// periodicRuns counts the runs of the leader's periodic work by job and
// outcome (lethe_periodic_runs_total; "task", not "job", which
// Prometheus keeps for its scrape job): a task that keeps failing (the
// sweeps of expired exports and self-service links, the audit
// checkpoints and verification) shows in its "failed" series.
type periodicRuns struct{ *prometheus.CounterVec }

func newPeriodicRuns() *periodicRuns {
	return &periodicRuns{prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lethe_periodic_runs_total",
		Help: "Runs of the elected leader's periodic tasks, by task and status (ok, failed)."}, []string{"task", "status"})}
}

// count returns list with each Run counted, and its failures logged with
// the task's name; both series of every task start at 0, so that
// increase() sees a task's first failure.
func (p *periodicRuns) count(list []queue.Periodic, log *slog.Logger) []queue.Periodic {
	out := make([]queue.Periodic, len(list))
	for i, job := range list {
		ok, failed := p.WithLabelValues(job.Name, "ok"), p.WithLabelValues(job.Name, "failed")
		run, name := job.Run, job.Name
		job.Run = func(ctx context.Context) error {
			err := run(ctx)
			if err != nil {
				failed.Inc()
				log.Warn("periodic task failed; it runs again at its next tick", "task", name, "error", err)
			} else {
				ok.Inc()
			}
			return err
		}
		out[i] = job
	}
	return out
}

// auditVerifyJob is the leader's periodic verification of the audit chain
// and its signed checkpoints, recorded for /metrics on every replica. It
// reads the whole chain in pages of 500 within one read-only snapshot, as
// lethe audit verify does: a change anywhere in the trail is seen at the
// next run, not only in the entries appended since the last.
func auditVerifyJob(audit *state.AuditLog, every time.Duration, log *slog.Logger) queue.Periodic {
	return queue.Periodic{Name: "audit-verify", Every: every, Run: func(ctx context.Context) error {
		c, err := audit.VerifyAndRecord(ctx)
		if err != nil {
			return fmt.Errorf("audit chain not verified (lethe_audit_last_verified_timestamp_seconds ages): %w", err)
		}
		if !c.OK {
			log.Error("audit chain BROKEN: run lethe audit verify", "entry", c.BadSeq, "problem", c.Problem, "entries", c.Entries)
		}
		return nil
	}}
}

// watchCollector reads from the state store, at each scrape, what the
// alerts of deploy/prometheus/alerts.yaml watch: processors' confirmations
// awaited (each processor of reg at 0 when none is), live and stale
// processes, the last verification of the audit chain.
func (m *Main) watchCollector(svc *services, reg *registry.Registry) *api.WatchCollector {
	stats := &state.Stats{DB: m.DB}
	w := api.NewWatchCollector()
	w.Processors = stats.ProcessorsPending
	if reg != nil {
		for name, st := range reg.Stores {
			if st.Kind == registry.KindProcessor {
				w.ProcessorNames = append(w.ProcessorNames, name)
			}
		}
	}
	procs := &state.Processes{DB: m.DB}
	if svc.Life != nil {
		procs = &state.Processes{DB: m.DB, DeadAfter: svc.Life.Processes.DeadAfter}
	}
	w.Processes = procs.Census
	w.Audit = func(ctx context.Context) (*api.AuditStatus, error) {
		c, err := svc.Audit.LastCheck(ctx)
		if c == nil || err != nil {
			return nil, err
		}
		return &api.AuditStatus{OK: c.OK, At: c.At}, nil
	}
	w.AnchorDiverged = svc.Audit.AnchorDiverged // 0 without an anchor
	return w
}
