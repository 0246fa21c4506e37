package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// openState opens the state store for a one-shot command.
func openState(ctx context.Context, c *Config) (*state.DB, error) {
	if err := c.checkSubjectKey(); err != nil {
		return nil, err
	}
	return state.Open(ctx, c.DatabaseURL)
}

// runKeys is "lethe keys create --tenant T".
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: lethe keys create --tenant T", errUsage)
	}
	var c Config
	var tenant string
	fs := newFlagSet("keys create", stderr)
	c.stateFlags(fs)
	fs.StringVar(&tenant, "tenant", "", "tenant the key acts for (required)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := openState(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	keys := &state.KeyService{DB: db, Audit: &state.AuditLog{DB: db}}
	k, err := keys.Create(ctx, "cli", tenant)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "key %s for tenant %s (the token is shown once; keep it secret):\n%s\n", k.ID, k.Tenant, k.Token)
	return nil
}

// runAudit is "lethe audit verify": exit 0 when the chain is whole, 1 when not.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("%w: lethe audit verify", errUsage)
	}
	var c Config
	fs := newFlagSet("audit verify", stderr)
	c.stateFlags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := openState(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := (&state.AuditLog{DB: db}).Verify(ctx)
	if err != nil {
		return err
	}
	if !v.OK {
		fmt.Fprintf(stdout, "audit chain BROKEN at entry %d: %s (%d entries read)\n", v.BadSeq, v.Problem, v.Entries)
		return fmt.Errorf("%w: audit chain broken", errFailed)
	}
	fmt.Fprintf(stdout, "audit chain ok: %d entries\n", v.Entries)
	return nil
}

// cliError turns a dsr.Error into its message; other errors pass unchanged.
func cliError(err error) error {
	if code := dsr.ErrorCode(err); code != dsr.EINTERNAL {
		return fmt.Errorf("%w: %s", errFailed, dsr.ErrorMessage(err))
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
