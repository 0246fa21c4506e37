package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// Main is the running service: lethe serve.
type Main struct {
	Config  Config
	Demo    bool
	DemoDir string
	Workers int

	DB  *state.DB
	App *appStores // nil without a registry
	// Exports stores and serves access packages; nil without LETHE_EXPORT_KEY.
	Exports *export.Service
	Queue   *queue.Queue
	Server  *api.Server
	Logger  *slog.Logger

	stdout, stderr io.Writer
	serveErr       chan error
	getenv         func(string) string // resolves the variables the registry names
}

// NewMain returns a Main writing its log to stderr.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{stdout: stdout, stderr: stderr, Logger: slog.New(slog.NewJSONHandler(stderr, nil)), getenv: os.Getenv}
}

// ParseFlags reads lethe serve's flags and LETHE_* variables.
func (m *Main) ParseFlags(args []string) error {
	fs := newFlagSet("serve", m.stderr)
	m.Config.serveFlags(fs)
	fs.BoolVar(&m.Demo, "demo", false, "seed and serve the demo application (what make run does)")
	fs.StringVar(&m.DemoDir, "demo-dir", ".lethe/demo", "where --demo keeps the demo application")
	fs.IntVar(&m.Workers, "workers", 4, "requests executed at once by this process")
	return parse(fs, args)
}

// Run opens the state store, starts the workers and the HTTP server, and
// returns once they are serving; Close stops them.
func (m *Main) Run(ctx context.Context) error {
	if m.Demo {
		if err := m.prepareDemo(ctx); err != nil {
			return err
		}
	}
	if err := m.Config.checkSubjectKey(); err != nil {
		return err
	}
	if m.Config.AdminToken == "" {
		m.Logger.Warn("LETHE_ADMIN_TOKEN is not set: admin routes are closed; tenant keys still work")
	}
	db, err := state.Open(ctx, m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	m.DB = db
	hasher := dsr.NewSubjectHasher([]byte(m.Config.SubjectKey))
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: hasher, Audit: audit}
	runStore := &state.RunStore{DB: db, Audit: audit, Requests: requests}

	var executor dsr.Executor = dsr.NoRegistryExecutor{}
	ready := map[string]api.Pinger{"state": db}
	var planner api.Planner
	if m.Config.Registry == "" {
		m.Logger.Warn("no registry configured (LETHE_CONFIG): every request will fail until one is set")
	} else {
		if m.App, err = openRegistry(ctx, m.Config.Registry, m.getenv, hasher); err != nil {
			return err
		}
		for _, w := range m.App.Warnings {
			m.Logger.Warn("registry", "problem", w.String())
		}
		for name, p := range m.App.Pingers() {
			ready[name] = p
		}
		executor, planner = m.App.Engine, m.App.Engine
		m.Logger.Info("registry loaded", "path", m.Config.Registry, "version", m.App.Registry.Version())
	}
	ret, err := newRetentionParts(db, audit, hasher, m.Config.SubjectKey)
	if err != nil {
		return err
	}
	responsesEvery, err := m.Config.responsesEvery()
	if err != nil {
		return err
	}
	retMetrics := api.NewRetentionMetrics()
	qcfg := queue.Config{DB: db, Logger: m.Logger, Workers: m.Workers}
	if m.Exports, err = m.openExports(ctx, db, requests); err != nil {
		return err
	}
	if m.Exports != nil {
		ready["exports"] = m.Exports
		if m.App != nil {
			m.App.Engine.Exporter = m.Exports
		}
		qcfg.Periodic = append(qcfg.Periodic, m.exportSweep(db, m.Exports))
	}
	if m.App != nil { // sweeps on the registry's schedule, on the elected leader only
		schedule, err := retention.ParseSchedule(m.App.Registry.Schedule.Cron)
		if err != nil {
			return fmt.Errorf("registry %s: retention.schedule: %w", m.Config.Registry, err)
		}
		sw := ret.sweeper(m.App, retMetrics, m.Logger)
		qcfg.Sweep, qcfg.Schedule = queueSweep(sw, m.Logger), schedule
		// The purge of tenants that stopped collecting responses: the same
		// sweeper, every responsesEvery, on the elected leader only.
		qcfg.Periodic = append(qcfg.Periodic, responsesSweep(sw, responsesEvery, m.Logger))
	}
	self, selfStore, err := m.newSelfService(db, audit, requests, hasher)
	if err != nil {
		return err
	}
	qcfg.Periodic = append(qcfg.Periodic, selfSweep(self))
	runner := &dsr.Runner{Store: runStore, Executor: executor, Now: time.Now, Logger: m.Logger, Holds: ret.Holds,
		Notifier: self}
	qcfg.Runner = runner
	if m.Queue, err = queue.New(ctx, qcfg); err != nil {
		return err
	}
	requests.Enqueue = m.Queue.Enqueue
	selfStore.Enqueue = m.Queue.Enqueue
	ret.Runs.Enqueue = m.Queue.EnqueueRetention

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		api.NewRequestCollector(&state.Stats{DB: db}), retMetrics, api.NewLastSweepCollector(ret.Runs.LastFinished))
	m.Server = &api.Server{
		AdminToken: m.Config.AdminToken, Requests: requests, Keys: &state.KeyService{DB: db, Audit: audit},
		Audit: audit, Ready: ready, Planner: planner, Subject: hasher, Metrics: reg, Logger: m.Logger, Now: time.Now,
		Steps: func(ctx context.Context, id string) ([]dsr.Step, error) { return runStore.Journal(id).Steps(ctx) },
		Holds: ret.Holds, Settings: ret.Settings, LastSweep: ret.Runs.LastFinished,
		Redactors: ret.Redactors, ResponsesEvery: responsesEvery,
	}
	if m.App != nil {
		m.Server.Retention, m.Server.Registry = ret.Runs, m.App.Registry
	}
	if m.Exports != nil {
		m.Server.Exports = m.Exports
	}
	m.Server.Self = self
	addr, err := m.Server.Open(m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	if self.PublicURL == "" {
		self.PublicURL = "http://" + addr.String()
	}
	if err := m.Queue.Start(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.Server.Serve() }()
	m.Logger.Info("lethe serving", "addr", addr.String(), "state", db.Dialect, "demo", m.Demo)
	return nil
}

// prepareDemo seeds the demo application and fills in what a newcomer has
// not set: an admin token (printed once) and a subject key kept in the demo
// folder so that restarts hash subjects alike.
func (m *Main) prepareDemo(ctx context.Context) error {
	d, err := demo.Seed(ctx, m.DemoDir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if m.Config.SubjectKey == "" {
		if m.Config.SubjectKey, err = demoSecret(filepath.Join(m.DemoDir, "subject.key")); err != nil {
			return err
		}
	}
	if m.Config.ExportKey == "" {
		if m.Config.ExportKey, err = demoSecret(filepath.Join(m.DemoDir, "export.key")); err != nil {
			return err
		}
	}
	if m.Config.ExportURL == "" {
		abs, err := filepath.Abs(filepath.Join(m.DemoDir, "exports"))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		m.Config.ExportURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	if m.Config.AdminToken == "" {
		m.Config.AdminToken = randomHex(24)
		fmt.Fprintf(m.stdout, "demo admin token (shown once): %s\n", m.Config.AdminToken)
	}
	if m.Config.Registry == "" {
		m.Config.Registry = filepath.Join(m.DemoDir, "lethe.yaml")
		if err := os.WriteFile(m.Config.Registry, d.Registry(demoDSNEnv), 0o600); err != nil {
			return fmt.Errorf("demo: write registry: %w", err)
		}
		m.getenv = demoGetenv(d.DBPath)
	}
	fmt.Fprintf(m.stdout, "demo application: %s (%d users; emails in README.md)\n", d.DBPath, len(d.Users))
	return nil
}

func demoSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= minSubjectKey {
		return string(b), nil
	}
	key := randomHex(32)
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		return "", fmt.Errorf("demo: write subject key: %w", err)
	}
	return key, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close shuts the HTTP server down gracefully, lets running requests finish
// (up to 30 s, then cancels them for a retry elsewhere) and closes the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if m.Server != nil {
		keep(m.Server.Shutdown(ctx))
		if m.serveErr != nil {
			keep(<-m.serveErr)
		}
	}
	if m.Queue != nil {
		keep(m.Queue.Stop(ctx))
	}
	if m.App != nil {
		keep(m.App.Close())
	}
	if m.Exports != nil {
		keep(m.Exports.Bucket.Close())
	}
	if m.DB != nil {
		keep(m.DB.Close())
	}
	m.Logger.Info("lethe stopped")
	return firstErr
}
