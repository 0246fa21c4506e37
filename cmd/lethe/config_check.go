package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// runConfig is "lethe config check [--config PATH]": it loads the registry,
// checks its variables, connects to its stores and compares it with their
// live schemas. Problems are printed one a line with their path in the file;
// missing indexes are warnings with the CREATE INDEX to run; then what was
// read from the live schema: primary keys the file does not declare, and
// each retention rule's cut-off as its column stores it. Exit 1 when the
// registry would not start the service.
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: lethe config check [--config PATH]", errUsage)
	}
	var c Config
	fs := newFlagSet("config check", stderr)
	fs.StringVar(&c.Registry, "config", os.Getenv("LETHE_CONFIG"), "path of the registry, lethe.yaml (env LETHE_CONFIG)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if c.Registry == "" {
		return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
	}
	app, err := openRegistry(ctx, c.Registry, os.Getenv, dsr.NewSubjectHasher(nil))
	if err != nil {
		fmt.Fprintln(stdout, err)
		return fmt.Errorf("%w: %s does not pass", errFailed, c.Registry)
	}
	defer app.Close()
	for _, w := range app.Warnings {
		fmt.Fprintln(stdout, w.String())
	}
	for _, n := range app.Registry.Notes(time.Now()) {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stdout, "%s: ok (%d stores, %d collections, %d warnings, version %s)\n", c.Registry,
		len(app.Registry.Stores), len(app.Registry.Collections), len(app.Warnings), app.Registry.Version()[:12])
	return nil
}

// runPlan is "lethe plan --email E [--tenant T]": the dry run of an erasure.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var email, tenant string
	fs := newFlagSet("plan", stderr)
	fs.StringVar(&c.Registry, "config", os.Getenv("LETHE_CONFIG"), "path of the registry, lethe.yaml (env LETHE_CONFIG)")
	fs.StringVar(&email, "email", "", "the person's email (required)")
	fs.StringVar(&tenant, "tenant", "", "restrict to one tenant")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.Registry == "" {
		return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
	}
	app, err := openRegistry(ctx, c.Registry, os.Getenv, dsr.NewSubjectHasher(nil))
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := app.Engine.Plan(ctx, email, tenant)
	if err != nil {
		return cliError(err)
	}
	for _, it := range p.Collections {
		fmt.Fprintf(stdout, "%-10s %-24s %-10s %d\n", it.Store, it.Collection, it.Action, it.Count)
	}
	for _, f := range p.Files {
		fmt.Fprintf(stdout, "files %s.%s (store %s): %d to delete, %d refused\n", f.Collection, f.Column, f.Store, f.Delete, f.Refused)
		if f.Stops {
			fmt.Fprintf(stdout, "  an erasure would stop before changing anything: map the paths with path_prefix, fix the rows, or set best_effort on store %s\n", f.Store)
		}
	}
	fmt.Fprintf(stdout, "total %d (nothing was changed)\n", p.Total)
	return nil
}
