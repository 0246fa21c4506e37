package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newTenantsCreateCmd is "lethe tenants create": register a studio.
func newTenantsCreateCmd(c *cli) *cobra.Command {
	var cfg Config
	var t dsr.Tenant
	cmd := &cobra.Command{
		Use:   "create --slug S --name N [--legal-name L] [--privacy-contact E] [--owner E]... [--color #rrggbb] [--language de]",
		Short: "Register a studio (tenant)",
		Long: `Register a studio. Only a registered slug is accepted where a tenant is
named (requests, keys, settings, holds, self-service); the slug never changes.
Reads LETHE_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "slug", "name"); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			created, err := (&state.Tenants{DB: db, Audit: &state.AuditLog{DB: db}}).Create(ctx, "cli", &t)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(c.stdout, "tenant %s registered (%s)\n", created.Slug, created.DisplayName)
			return nil
		},
	}
	cfg.databaseFlag(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&t.Slug, "slug", "", "the slug requests and keys name the tenant by; never changes (required)")
	fs.StringVar(&t.DisplayName, "name", "", "display name (required)")
	fs.StringVar(&t.LegalName, "legal-name", "", "the controller's legal name")
	fs.StringVar(&t.PrivacyContact, "privacy-contact", "", "the address people write to about their data")
	fs.StringArrayVar(&t.OwnerEmails, "owner", nil, "an owner's email (repeat for several)")
	fs.StringVar(&t.BrandColor, "color", "", "brand colour as #rrggbb")
	fs.StringVar(&t.Language, "language", "", `the language people are spoken to when their browser asks for none Lethe has ("de"; default English)`)
	return cmd
}

// newTenantsListCmd is "lethe tenants list": one studio a line, slug,
// display name and legal name; addresses are not printed.
func newTenantsListCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registered studios",
		Long:  `Print the registered studios by slug: slug, display name, legal name. Reads LETHE_DATABASE_URL.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			// The cursors never leave this process: a random key signs them.
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			return listTenants(ctx, &state.Tenants{DB: db, Subject: dsr.NewSubjectHasher(key)}, c.stdout)
		},
	}
	cfg.databaseFlag(cmd.Flags())
	return cmd
}

func listTenants(ctx context.Context, tenants *state.Tenants, stdout io.Writer) error {
	cursor := ""
	for {
		page, err := tenants.List(ctx, cursor, 200)
		if err != nil {
			return cliError(err)
		}
		for _, t := range page.Items {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", t.Slug, t.DisplayName, t.LegalName)
		}
		if cursor = page.NextCursor; cursor == "" {
			return nil
		}
	}
}

// registerStudios registers the demo's studios on every start; one already
// registered keeps the profile it has, edits included.
func registerStudios(ctx context.Context, tenants *state.Tenants, studios []dsr.Tenant) error {
	for i := range studios {
		if _, err := tenants.Create(ctx, "demo", &studios[i]); err != nil && dsr.ErrorCode(err) != dsr.ECONFLICT {
			return fmt.Errorf("demo: register studio %s: %w", studios[i].Slug, err)
		}
	}
	return nil
}
