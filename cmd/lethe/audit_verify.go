package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// newAuditVerifyCmd is "lethe audit verify": exit 0 when the chain is
// whole, 1 when not. The chain is of SHA-256 hashes, so checking it needs
// the state store only, no secret.
func newAuditVerifyCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit trail's hash chain",
		Long: `Walk the audit trail and check its hash chain; name the first changed or
missing entry. Reads LETHE_DATABASE_URL; no secret. Exit 1 when the chain is
broken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			v, err := (&state.AuditLog{DB: db}).Verify(ctx)
			if err != nil {
				return err
			}
			if !v.OK {
				fmt.Fprintf(c.stdout, "audit chain BROKEN at entry %d: %s (%d entries read)\n", v.BadSeq, v.Problem, v.Entries)
				return fmt.Errorf("%w: audit chain broken", errFailed)
			}
			fmt.Fprintf(c.stdout, "audit chain ok: %d entries\n", v.Entries)
			return nil
		},
	}
	cfg.databaseFlag(cmd.Flags())
	return cmd
}
