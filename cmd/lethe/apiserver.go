package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newAPIServer builds the HTTP API over the services. The routes of the
// registry (plan, retention, policy) and of access packages answer that
// they are not configured when m.App or m.Exports is nil.
func (m *Main) newAPIServer(cfg Config, svc *services, self *selfservice.Service, retMetrics *api.RetentionMetrics, periodicRuns prometheus.Collector, responsesEvery time.Duration) *api.Server {
	// A chain diverged from its anchor is no reason to take the process
	// (and, as a sidecar, its application) out of service: it is reported
	// by lethe_audit_anchor_diverged and in the log.
	ready := map[string]api.Pinger{"state": m.DB}
	var planner api.Planner
	var runs api.RetentionRuns
	var reg *registry.Registry
	if m.App != nil {
		planner, runs, reg = m.App.Engine, svc.Runs, m.App.Registry
		for name, p := range m.App.Pingers() {
			ready[name] = p
		}
	}
	var exports dsr.ExportService
	if m.Exports != nil {
		exports, ready["exports"] = m.Exports, m.Exports
	}
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		api.NewRequestCollector(&state.Stats{DB: m.DB}), retMetrics, api.NewLastSweepCollector(svc.Runs.LastFinished),
		api.NewFailedSweepCollector(svc.Runs.LastFailed), m.watchCollector(svc, reg), periodicRuns)
	var ended dsr.EndObserver
	if self != nil {
		ended = self
	}
	return &api.Server{
		AdminToken: cfg.AdminToken, AdminTokenPrevious: splitKeys(cfg.AdminTokenPrevious), Requests: svc.Requests, Keys: svc.Keys, Tenants: svc.Tenants, Audit: svc.Audit, Ready: ready,
		Planner: planner, Subject: svc.Hasher, Metrics: metrics, Logger: m.Logger, Now: time.Now,
		Steps: func(ctx context.Context, id string) ([]dsr.Step, error) { return svc.Execution.Journal(id).Steps(ctx) },
		Holds: svc.Holds, Settings: svc.Settings, LastSweep: svc.Runs.LastFinished,
		Redactors: svc.Redactors, ResponsesEvery: responsesEvery,
		Retention: runs, Registry: reg, Exports: exports, Self: self, Ended: ended,
	}
}
