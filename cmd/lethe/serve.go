package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"gocloud.dev/blob"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/pkg/console"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/knownpeople"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newServeCmd is "lethe serve": the service until SIGINT or SIGTERM.
func newServeCmd(c *cli) *cobra.Command {
	m := NewMain(c.stdout, c.stderr)
	m.getenv = c.getenv
	cmd := &cobra.Command{
		Use:   "serve [--demo]",
		Short: "Run the HTTP service and its workers",
		Long: `Run the HTTP service and its workers until SIGINT or SIGTERM, then stop
gracefully. Needs LETHE_SUBJECT_KEY; reads every variable listed below, and the
variables the registry names. --demo seeds and serves the demo application and
fills in what is not set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := m.Run(ctx); err != nil {
				m.Close()
				return err
			}
			<-ctx.Done()
			return m.Close()
		},
	}
	m.flags(cmd)
	return cmd
}

// flags registers lethe serve's flags on cmd, bound to m.
func (m *Main) flags(cmd *cobra.Command) {
	m.Config.serveFlags(cmd)
	cmd.Flags().BoolVar(&m.Demo, "demo", false, "seed and serve the demo application (what make run does)")
	cmd.Flags().StringVar(&m.DemoDir, "demo-dir", ".lethe/demo", "where --demo keeps the demo application")
	cmd.Flags().IntVar(&m.Workers, "workers", 4, "requests executed at once by this process")
}

// Main is the running service: lethe serve. Run builds every part once,
// each from the parts it needs, in the order they need each other.
type Main struct {
	Config  Config
	Demo    bool
	DemoDir string
	Workers int

	DB *state.DB
	// Lock holds a SQLite state store for this process alone.
	Lock *state.ServeLock
	App  *appStores // nil without a registry
	// Exports stores and serves access packages; nil without LETHE_EXPORT_KEY.
	Exports *export.Service
	// Anchor is the bucket of the audit chain's signed checkpoints; nil
	// without LETHE_AUDIT_KEY.
	Anchor *blob.Bucket
	Queue  *queue.Queue
	Server *api.Server
	// Console is the owners' console at /console.
	Console *console.Console
	HTTP    *http.Server
	Logger  *slog.Logger
	// OpenDSR is the OpenDSR processor; nil without LETHE_OPENDSR_KEY.
	OpenDSR *opendsr.Service
	// People holds each studio's dictionary of known people; nil without
	// a registry or with LETHE_KNOWN_PEOPLE_MAX=0.
	People *knownpeople.Index

	stdout, stderr io.Writer
	ln             net.Listener
	serveErr       chan error
	stopWatch      func()              // stops the OpenDSR status scan; nil when off
	stopPeople     func()              // stops the walks of known people; nil when off
	getenv         func(string) string // resolves the variables the registry names
}

// NewMain returns a Main writing its log to stderr.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{stdout: stdout, stderr: stderr, Logger: slog.New(slog.NewJSONHandler(stderr, nil)), getenv: os.Getenv}
}

// Run checks the configuration, listens, opens the state store, builds the
// services, the workers and the HTTP server, and returns once they are
// serving; Close stops them. The listener comes first so that the address
// emailed links default to is known before self-service is built.
func (m *Main) Run(ctx context.Context) error {
	cfg, getenv := m.Config, m.getenv
	if m.Demo {
		var err error
		if cfg, getenv, err = prepareDemo(ctx, cfg, m.DemoDir, m.stdout, getenv); err != nil {
			return err
		}
	}
	opts, err := checkServe(cfg, m.Demo)
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		m.Logger.Warn("LETHE_ADMIN_TOKEN is not set: admin routes are closed; tenant keys still work")
	}
	if m.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	publicURL := cmp.Or(opts.publicURL, "http://"+m.ln.Addr().String())
	if m.Lock, err = state.LockServe(cfg.DatabaseURL); err != nil {
		return err
	}
	if m.DB, err = state.Open(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	m.checkLevel(ctx)
	life := &liveness{Process: state.NewProcess(), Processes: &state.Processes{DB: m.DB, DeadAfter: 3 * opts.heartbeat, Alone: m.Lock.Exclusive()},
		Every: opts.heartbeat, Exclusive: m.Lock.Exclusive()}
	enq, err := queue.NewEnqueuer(ctx, queue.EnqueuerConfig{DB: m.DB, Logger: m.Logger})
	if err != nil {
		return err
	}
	hasher, err := cfg.subjectHasher()
	if err != nil {
		return err
	}
	if n, err := state.RehashSubjects(ctx, m.DB, hasher); err != nil {
		return err
	} else if n > 0 {
		m.Logger.Info("subjects of open requests and holds moved to the current subject key", "rows", n, "key_id", hasher.KeyID())
	}
	anchor, err := m.openAnchor(ctx, cfg)
	if err != nil {
		return err
	}
	svc, err := newServices(m.DB, cfg, enq, anchor, life)
	if err != nil {
		return err
	}
	m.checkAnchor(ctx, svc.Audit)
	if m.Demo {
		if err := registerStudios(ctx, svc.Tenants, demo.Studios()); err != nil {
			return err
		}
	}
	if m.Exports, err = openExports(ctx, cfg, m.DB, svc.Requests, m.Logger); err != nil {
		return err
	}
	if m.Exports != nil { // report.html names the studio, speaks the person's language, links the page
		m.Exports.Studios, m.Exports.Languages, m.Exports.PublicURL = svc.Tenants, svc.Self, publicURL
	}
	if m.App, err = m.openApp(ctx, cfg.Registry, getenv, svc); err != nil {
		return err
	}
	if m.People, err = knownPeople(cfg, m.App, svc, m.Logger); err != nil {
		return err
	}
	svc.Requests.Gate = newGate(m.App, svc)
	if m.App != nil { // requests may then be filed by phone or user id
		svc.Requests.Identities = m.App.Registry
	}
	self, err := newSelfService(cfg, m.Demo, svc, m.Exports, publicURL, opts.proxies, m.Logger)
	if err != nil {
		return err
	}
	if m.OpenDSR, err = m.newOpenDSR(cfg, svc, publicURL); err != nil {
		return err
	}
	retMetrics, periodic := api.NewRetentionMetrics(), newPeriodicRuns()
	if m.Queue, err = m.newQueue(ctx, svc, self, retMetrics, periodic, opts); err != nil {
		return err
	}
	m.Server = m.newAPIServer(cfg, svc, self, retMetrics, periodic, opts.responsesEvery)
	m.Server.OpenDSR = m.OpenDSR
	m.Console = m.newConsole(cfg, svc, self, opts.responsesEvery)
	m.HTTP = newHTTPServer(withConsole(m.Server.Handler(), m.Console.Handler()), cfg.HTTP, m.Logger)
	return m.start(ctx)
}

// start starts the workers and serves on the listener.
func (m *Main) start(ctx context.Context) error {
	if err := m.Queue.Start(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	if m.OpenDSR != nil {
		m.watchOpenDSR(m.OpenDSR)
	}
	if m.People != nil { // on every replica: each serves POST /v1/redact
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		m.stopPeople = cancel
		go m.People.Run(pctx)
	}
	m.serveErr = make(chan error, 1)
	go func() {
		err := m.HTTP.Serve(m.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.serveErr <- err
	}()
	m.Logger.Info("lethe serving", "addr", m.ln.Addr().String(), "state", m.DB.Dialect, "demo", m.Demo,
		"process", m.Queue.Process())
	return nil
}

// Close shuts the HTTP server down gracefully, lets running requests finish
// (up to 30 s, then cancels them for a retry elsewhere) and closes the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	switch {
	case m.serveErr != nil:
		errs = append(errs, m.HTTP.Shutdown(ctx), <-m.serveErr)
	case m.ln != nil:
		errs = append(errs, m.ln.Close())
	}
	if m.stopWatch != nil {
		m.stopWatch()
	}
	if m.stopPeople != nil {
		m.stopPeople()
	}
	if m.Queue != nil {
		errs = append(errs, m.Queue.Stop(ctx))
	}
	if m.App != nil {
		errs = append(errs, m.App.Close())
	}
	if m.Exports != nil {
		errs = append(errs, m.Exports.Bucket.Close())
	}
	if m.Anchor != nil {
		errs = append(errs, m.Anchor.Close())
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	errs = append(errs, m.Lock.Release())
	m.Logger.Info("lethe stopped")
	for _, err := range errs {
		if err != nil {
			return err // the first, as before: the rest follow from it
		}
	}
	return nil
}
