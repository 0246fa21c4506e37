package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
)

// newPlanCmd is "lethe plan --email E [--tenant T]": the dry run of an
// erasure.
func newPlanCmd(c *cli) *cobra.Command {
	var cfg Config
	var email, tenant string
	cmd := &cobra.Command{
		Use:   "plan --email E [--tenant T]",
		Short: "Dry run: what an erasure would touch",
		Long: `Count, per collection, the rows an erasure of one person would touch; nothing
is changed. Reads LETHE_CONFIG and the variables the registry names; no secret.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Registry == "" {
				return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
			}
			if err := required(cmd, "email"); err != nil {
				return err
			}
			return runPlan(cmd.Context(), cfg, c.getenv, email, tenant, c.stdout)
		},
	}
	cfg.registryFlag(cmd)
	cmd.Flags().StringVar(&email, "email", "", "the person's email (required)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "restrict to one tenant")
	return cmd
}

// runPlan prints the plan of an erasure of email.
func runPlan(ctx context.Context, c Config, getenv func(string) string, email, tenant string, stdout io.Writer) error {
	app, err := openRegistry(ctx, c.Registry, getenv, dsr.NewSubjectHasher(nil), nil)
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
