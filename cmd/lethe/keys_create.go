package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// newKeysCreateCmd is "lethe keys create --tenant T".
func newKeysCreateCmd(c *cli) *cobra.Command {
	var cfg Config
	var tenant string
	cmd := &cobra.Command{
		Use:   "create --tenant T",
		Short: "Issue a tenant key (the token is printed once)",
		Long: `Issue a key that acts for one registered tenant. The token is printed once and stored
hashed. Reads LETHE_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "tenant"); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := (&state.Tenants{DB: db}).Known(ctx, tenant); err != nil {
				return cliError(err)
			}
			keys := &state.KeyService{DB: db, Audit: &state.AuditLog{DB: db}}
			k, err := keys.Create(ctx, "cli", tenant)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(c.stdout, "key %s for tenant %s (the token is shown once; keep it secret):\n%s\n", k.ID, k.Tenant, k.Token)
			return nil
		},
	}
	cfg.databaseFlag(cmd.Flags())
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant the key acts for (required)")
	return cmd
}
