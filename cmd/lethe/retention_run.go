package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// newRetentionRunCmd is "lethe retention run [--dry-run]": a sweep now, in
// this process, recorded in the state store like any other, with its
// progress on stderr and a summary on stdout. Exit 1 when the sweep failed.
func newRetentionRunCmd(c *cli) *cobra.Command {
	var cfg Config
	var dry, quiet bool
	var batch int
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Sweep expired rows and files now, in this process",
		Long: `Sweep expired rows and files now, in this process. The sweep is recorded in the
state store like a scheduled one. A count comes first; then progress goes to
stderr (a bar on a terminal, a line per batch otherwise) and the summary to
stdout. Reads LETHE_DATABASE_URL, LETHE_SUBJECT_KEY, LETHE_CONFIG and the
variables the registry names. Exit 1 when the sweep failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRetention(cmd.Context(), c, cfg, retention.Options{DryRun: dry, Trigger: retention.TriggerCLI, Actor: "cli"}, batch, quiet)
		},
	}
	cfg.databaseFlag(cmd.Flags())
	cfg.subjectKeyFlag(cmd.Flags())
	cfg.registryFlag(cmd)
	cfg.knownPeopleFlags(cmd.Flags())
	cmd.Flags().BoolVar(&dry, "dry-run", false, "count what a sweep would purge; change nothing")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress on stderr")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "rows per batch (default: the registry's retention.batch_size, else 50000)")
	return cmd
}

func runRetention(ctx context.Context, c *cli, cfg Config, o retention.Options, batch int, quiet bool) error {
	if cfg.Registry == "" {
		return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
	}
	db, err := openState(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := newServices(db, cfg, nil, nil, nil)
	if err != nil {
		return err
	}
	app, err := openRegistry(ctx, cfg.Registry, c.getenv, svc.Hasher, svc.Redactors)
	if err != nil {
		return err
	}
	defer app.Close()
	// The redact actions replace the studios' known people: read them first.
	if people, err := knownPeople(cfg, app, svc, nil); err != nil {
		return err
	} else if people != nil {
		if err := people.Rebuild(ctx); err != nil {
			return cliError(err)
		}
	}
	opts := sweepOptions{Logger: slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), BatchSize: batch}
	var bar progress
	if !quiet {
		total, err := countSweep(ctx, svc, app, opts, o.Kind)
		if err != nil {
			return cliError(err)
		}
		bar = newProgress(c.stderr, total)
		opts.Progress = bar.update
	}
	sw := svc.sweeper(app, opts)
	run, err := sw.Run(ctx, o)
	if bar != nil {
		bar.finish() // before the summary, which must start a line of its own
	}
	if run == nil {
		return cliError(err)
	}
	printRun(c.stdout, run)
	if err != nil {
		return fmt.Errorf("%w: retention run %s failed: %s", errFailed, run.ID, dsr.ErrorMessage(err))
	}
	return nil
}

// countSweep counts what a sweep of kind would do now: a dry run whose
// run is kept in memory, so the count leaves no record.
func countSweep(ctx context.Context, svc *services, app *appStores, opts sweepOptions, kind string) (sweepTally, error) {
	opts.Runs = countRuns{}
	run, err := svc.sweeper(app, opts).Run(ctx, retention.Options{DryRun: true, Kind: kind, Trigger: retention.TriggerCLI, Actor: "cli"})
	if err != nil {
		return sweepTally{}, fmt.Errorf("count before the sweep: %w", err)
	}
	return tallyOf(run), nil
}

// countRuns is the RunLog of the count: the run lives in memory only.
type countRuns struct{}

func (countRuns) Begin(_ context.Context, b retention.Begin) (*retention.Run, error) {
	return &retention.Run{ID: "count", Kind: b.Kind, DryRun: true, Status: retention.StatusRunning, Trigger: b.Trigger,
		Actor: b.Actor, AsOf: b.Now, CreatedAt: b.Now, StartedAt: &b.Now}, nil
}
func (countRuns) Save(context.Context, *retention.Run, []retention.File) error { return nil }
func (countRuns) Finish(context.Context, *retention.Run) error                 { return nil }
func (countRuns) FilesDone(context.Context, []retention.File) error            { return nil }
func (countRuns) Run(context.Context, string) (*retention.Run, error) {
	return nil, dsr.Errorf(dsr.ENOTFOUND, "the count keeps no runs")
}
func (countRuns) Runs(context.Context, retention.RunFilter) (*retention.RunPage, error) {
	return &retention.RunPage{}, nil
}

// openState opens the state store for a command that needs the subject
// key (it hashes emails or derives redaction keys).
func openState(ctx context.Context, c *Config) (*state.DB, error) {
	if err := c.checkSubjectKey(); err != nil {
		return nil, err
	}
	return state.Open(ctx, c.DatabaseURL)
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
