package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newPlanCmd is "lethe plan --email E [--tenant T]": the dry run of an
// erasure.
func newPlanCmd(c *cli) *cobra.Command {
	var cfg Config
	var email, tenant string
	var ids map[string]string
	cmd := &cobra.Command{
		Use:   "plan --email E | --identity TYPE=VALUE [--tenant T]",
		Short: "Dry run: what an erasure would touch",
		Long: `Count, per collection, the rows an erasure of one person would touch; nothing
is changed. The person is named by email, or by another identity the registry
declares (--identity phone=+447700900123, --identity user_id=42). Reads
LETHE_CONFIG and the variables the registry names; no secret. With --tenant,
the studio must be registered: it is looked up in the state store
(LETHE_DATABASE_URL).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Registry == "" {
				return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
			}
			ids, err := identityFlags(cmd, email, ids)
			if err != nil {
				return err
			}
			if tenant != "" {
				if err := knownTenant(cmd.Context(), cfg.DatabaseURL, tenant); err != nil {
					return err
				}
			}
			return runPlan(cmd.Context(), cfg, c.getenv, ids, tenant, c.stdout)
		},
	}
	cfg.registryFlag(cmd)
	cfg.databaseFlag(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "the person's email (or --identity)")
	cmd.Flags().StringToStringVar(&ids, "identity", nil, "another identity of the person, TYPE=VALUE (repeatable)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "restrict to one tenant")
	return cmd
}

// knownTenant refuses a tenant nobody registered in the state store at
// url, with the API's message.
func knownTenant(ctx context.Context, url, tenant string) error {
	if err := dsr.ValidateTenant(tenant); err != nil {
		return cliError(err)
	}
	db, err := state.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := (&state.Tenants{DB: db}).Known(ctx, tenant); err != nil {
		return cliError(err)
	}
	return nil
}

// identityFlags merges --email and --identity; a usage error when neither
// names the person.
func identityFlags(cmd *cobra.Command, email string, ids map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range ids {
		out[k] = v
	}
	if email != "" {
		out["email"] = email
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s needs --email or --identity", errUsage, cmd.CommandPath())
	}
	return out, nil
}

// runPlan prints the plan of an erasure of the person named by ids.
func runPlan(ctx context.Context, c Config, getenv func(string) string, ids map[string]string, tenant string, stdout io.Writer) error {
	app, err := openRegistry(ctx, c.Registry, getenv, dsr.NewSubjectHasher(nil), nil)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := app.Engine.PlanIdentities(ctx, ids, tenant)
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
	for _, k := range p.Keys {
		switch {
		case !k.Counted:
			fmt.Fprintf(stdout, "keys %s: not counted (the store is not configured)\n", k.Store)
		case k.AtLeast:
			fmt.Fprintf(stdout, "keys %s: at least %d to delete\n", k.Store, k.Count)
		default:
			fmt.Fprintf(stdout, "keys %s: %d to delete\n", k.Store, k.Count)
		}
	}
	for _, kind := range sortedIdentityKinds(p.Identities) {
		fmt.Fprintf(stdout, "identities %s: %d\n", kind, p.Identities[kind])
	}
	fmt.Fprintf(stdout, "total %d (nothing was changed)\n", p.Total)
	return nil
}

func sortedIdentityKinds(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
