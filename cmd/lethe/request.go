package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newRequestCmd is "lethe request --type T --email E [--tenant T]", which
// files a request as the admin (lethe serve executes it), with its
// subcommand "lethe request show ID".
func newRequestCmd(c *cli) *cobra.Command {
	var cfg Config
	var typ, email, tenant string
	var ids map[string]string
	cmd := &cobra.Command{
		Use:   "request --type access|erasure --email E | --identity TYPE=VALUE [--tenant T]",
		Short: "File an access or erasure request (lethe serve executes it)",
		Long: `File a request as the admin; a running lethe serve executes it. Prints the
request as JSON. Reads LETHE_DATABASE_URL and LETHE_SUBJECT_KEY (emails are
stored as their keyed hash). A person named by another identity than email
(--identity phone=+447700900123) needs the registry (LETHE_CONFIG), whose
rules normalise it. The review gate applies as on the API: a request the
registry's approval: section or the studio's settings hold waits in
awaiting_approval (with its plan when LETHE_CONFIG names the registry).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "type"); err != nil {
				return err
			}
			all, err := identityFlags(cmd, email, ids)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return withRequests(ctx, cfg, true, func(svc *services) error {
				requests := svc.Requests
				var app *appStores
				if cfg.Registry != "" {
					var err error
					if app, err = openRegistry(ctx, cfg.Registry, c.getenv, svc.Hasher, svc.Redactors); err != nil {
						return err
					}
					defer app.Close()
					requests.Identities = app.Registry
				}
				requests.Gate = newGate(app, svc) // the API's review gate
				if tenant != "" && dsr.ValidateTenant(tenant) == nil {
					if err := (&state.Tenants{DB: requests.DB}).Known(ctx, tenant); err != nil {
						return cliError(err)
					}
				}
				r, _, err := requests.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.Type(typ), Tenant: tenant, Identities: all})
				if err != nil {
					return cliError(err)
				}
				return printRequest(c.stdout, r)
			})
		},
	}
	cfg.databaseFlag(cmd.Flags())
	cfg.subjectKeyFlag(cmd.Flags())
	cmd.Flags().StringVar(&typ, "type", "", "access or erasure (required)")
	cmd.Flags().StringVar(&email, "email", "", "the person's email (or --identity)")
	cmd.Flags().StringToStringVar(&ids, "identity", nil, "another identity of the person, TYPE=VALUE (repeatable; needs the registry)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "restrict to one tenant")
	cfg.registryFlag(cmd)
	cmd.AddCommand(newRequestShowCmd(c))
	return cmd
}

// newRequestShowCmd is "lethe request show ID".
func newRequestShowCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one request",
		Long:  `Print one request as JSON. Reads LETHE_DATABASE_URL and LETHE_SUBJECT_KEY.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withRequests(ctx, cfg, false, func(svc *services) error {
				r, err := svc.Requests.Get(ctx, dsr.Caller{Admin: true}, args[0])
				if err != nil {
					return cliError(err)
				}
				return printRequest(c.stdout, r)
			})
		},
	}
	cfg.databaseFlag(cmd.Flags())
	cfg.subjectKeyFlag(cmd.Flags())
	return cmd
}

// withRequests opens the state store and calls fn with its services;
// withQueue says whether the service files requests (it then gets an
// enqueuer, which brings River's tables up to date).
func withRequests(ctx context.Context, cfg Config, withQueue bool, fn func(*services) error) error {
	db, err := openState(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var enq *queue.Enqueuer
	if withQueue {
		if enq, err = queue.NewEnqueuer(ctx, queue.EnqueuerConfig{DB: db}); err != nil {
			return err
		}
	}
	svc, err := newServices(db, cfg, enq, nil, nil)
	if err != nil {
		return err
	}
	return fn(svc)
}

func printRequest(w io.Writer, r *dsr.Request) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"id": r.ID, "type": r.Type, "status": r.Status, "tenant": r.Tenant, "subject": r.Subject,
		"created_at": r.CreatedAt.Format(time.RFC3339), "due_at": r.DueAt.Format(time.RFC3339),
		"counts": r.Counts, "verification": r.Verification, "error": r.Err,
	})
}

// cliError turns a dsr.Error into its message; other errors pass unchanged.
func cliError(err error) error {
	if code := dsr.ErrorCode(err); code != dsr.EINTERNAL {
		return fmt.Errorf("%w: %s", errFailed, dsr.ErrorMessage(err))
	}
	return err
}
