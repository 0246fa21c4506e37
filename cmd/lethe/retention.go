package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// retentionParts are the state stores retention uses, over one state DB,
// and the tenants' redaction keys.
type retentionParts struct {
	Runs      *state.RetentionRuns
	Holds     *state.Holds
	Settings  *state.TenantSettings
	Redactors *redact.Keyring
}

// newRetentionParts returns the parts over db. The redaction keys derive
// from subjectKey (already checked to be long enough), so no other secret
// is needed.
func newRetentionParts(db *state.DB, audit *state.AuditLog, hasher *dsr.SubjectHasher, subjectKey string) (*retentionParts, error) {
	keys, err := redact.NewKeyring([]byte(subjectKey))
	if err != nil {
		return nil, fmt.Errorf("redaction keys: %w", err)
	}
	return &retentionParts{
		Runs:      &state.RetentionRuns{DB: db, Audit: audit, Subject: hasher},
		Holds:     &state.Holds{DB: db, Audit: audit},
		Settings:  &state.TenantSettings{DB: db, Audit: audit},
		Redactors: keys,
	}, nil
}

// sweeper returns the Sweeper over app's stores. The files of purged rows
// are deleted from app's blob stores after their rows; one that fails (or
// whose store is not configured) stays pending in the run's report.
func (p *retentionParts) sweeper(app *appStores, obs retention.Observer, log *slog.Logger) *retention.Sweeper {
	stores := make(map[string]retention.Store, len(app.Stores))
	for name, st := range app.Stores {
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
	return &retention.Sweeper{Registry: app.Registry, Stores: stores, Engine: app.Engine, Runs: p.Runs,
		Holds: p.Holds, Settings: p.Settings, Files: files, Observer: obs, Logger: log, Now: time.Now,
		Redactors: p.Redactors}
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
// not an error; a failed sweep is recorded and resumed by the next one.
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
		case err != nil:
			log.Warn("retention sweep failed; the next one resumes it", "run", run.ID, "error", err)
		}
		return nil
	}
}

// runRetention is "lethe retention run [--dry-run]": a sweep now, in this
// process, recorded in the state store like any other, with a progress bar
// on stderr and a summary on stdout. Exit 1 when the sweep failed.
func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf("%w: lethe retention run [--dry-run] [--config PATH]", errUsage)
	}
	var c Config
	var dry, quiet bool
	var batch int
	fs := newFlagSet("retention run", stderr)
	c.stateFlags(fs)
	fs.StringVar(&c.Registry, "config", os.Getenv("LETHE_CONFIG"), "path of the registry, lethe.yaml (env LETHE_CONFIG)")
	fs.BoolVar(&dry, "dry-run", false, "count what a sweep would purge; change nothing")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.IntVar(&batch, "batch-size", 0, "rows per batch (default: the registry's retention.batch_size, else 5000)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if c.Registry == "" {
		return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
	}
	db, err := openState(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	hasher := dsr.NewSubjectHasher([]byte(c.SubjectKey))
	app, err := openRegistry(ctx, c.Registry, os.Getenv, hasher)
	if err != nil {
		return err
	}
	defer app.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	parts, err := newRetentionParts(db, &state.AuditLog{DB: db}, hasher, c.SubjectKey)
	if err != nil {
		return err
	}
	sw := parts.sweeper(app, nil, log)
	sw.BatchSize = batch
	if !quiet {
		bar := &progressBar{w: stderr}
		sw.Progress = bar.show
		defer bar.done()
	}
	run, err := sw.Run(ctx, retention.Options{DryRun: dry, Trigger: retention.TriggerCLI, Actor: "cli"})
	if run == nil {
		return cliError(err)
	}
	printRun(stdout, run)
	if err != nil {
		return fmt.Errorf("%w: retention run %s failed: %s", errFailed, run.ID, dsr.ErrorMessage(err))
	}
	return nil
}

// printRun writes a run's summary: one line per collection and tenant.
func printRun(w io.Writer, r *retention.Run) {
	verb := "purged"
	if r.DryRun {
		verb = "would purge"
	}
	fmt.Fprintf(w, "retention run %s: %s (as of %s)", r.ID, r.Status, r.AsOf.Format(time.RFC3339))
	if r.Resumes != "" {
		fmt.Fprintf(w, ", resuming %s", r.Resumes)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-28s %-14s %10s %10s %8s %8s %8s %8s\n", "collection", "tenant", "rows", "anonymised", "redacted", "held", "files", "pending")
	for _, c := range r.Counts {
		t := c.Tenant
		if t == "" {
			t = "(registry)"
		}
		fmt.Fprintf(w, "%-28s %-14s %10d %10d %8d %8d %8d %8d\n", c.Collection, t, c.RowsPurged, c.RowsAnonymized, c.RowsRedacted, c.RowsHeld, c.FilesPurged, c.FilesPending)
	}
	tot := r.Totals()
	fmt.Fprintf(w, "total: %s %d rows, anonymised %d, redacted %d, held %d, files deleted %d, files pending %d\n",
		verb, tot.RowsPurged, tot.RowsAnonymized, tot.RowsRedacted, tot.RowsHeld, tot.FilesPurged, tot.FilesPending)
	if tot.FilesPending > 0 && !r.DryRun {
		fmt.Fprintln(w, "files not deleted yet are listed in GET /v1/retention/runs/"+r.ID+" (see the log for why)")
	}
	if r.Err != nil {
		fmt.Fprintf(w, "error: %s: %s\n", r.Err.Code, r.Err.Message)
	}
}

// progressBar redraws one line on a terminal: rows and files per collection.
type progressBar struct {
	w     io.Writer
	width int
	spin  int
}

func (b *progressBar) show(r *retention.Run) {
	var parts []string
	rows, files := map[string]int64{}, map[string]int64{}
	var order []string
	for _, c := range r.Counts { // sorted by collection
		if _, ok := rows[c.Collection]; !ok {
			order = append(order, c.Collection)
		}
		rows[c.Collection] += c.RowsPurged + c.RowsAnonymized + c.RowsRedacted
		files[c.Collection] += c.FilesPurged + c.FilesPending
	}
	for _, col := range order {
		if rows[col]+files[col] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d rows %d files", col, rows[col], files[col]))
		}
	}
	b.spin++
	line := fmt.Sprintf("%c sweeping: %s", `|/-\`[b.spin%4], strings.Join(parts, " · "))
	if len(parts) == 0 {
		line = fmt.Sprintf("%c sweeping…", `|/-\`[b.spin%4])
	}
	pad := max(0, b.width-len(line))
	b.width = len(line)
	fmt.Fprintf(b.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

func (b *progressBar) done() {
	if b.width > 0 {
		fmt.Fprint(b.w, "\r"+strings.Repeat(" ", b.width)+"\r")
	}
}
