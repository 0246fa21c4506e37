package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// newConfigCheckCmd is "lethe config check [--config PATH]".
func newConfigCheckCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the registry against its live stores",
		Long: `Load the registry, check the variables it names, connect to its stores and
compare it with their live schemas. Problems are printed one a line with their
path in the file; missing indexes are warnings with the CREATE INDEX to run;
then what was read from the live schema: primary keys the file does not
declare, each retention rule's cut-off as its column stores it, and the
indexes of each mongo collection (a missing one is a warning with the
createIndex to run), and what an erasure's scan for mentions reads in each
collection that declares them (rows, bytes) with the index that makes it
cheap for a person known by an e-mail address alone (Postgres pg_trgm
GIN, MySQL/MariaDB FULLTEXT). Reads
LETHE_CONFIG and the variables the registry names; no secret. Exit 1 when the
registry would not start the service.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Registry == "" {
				return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
			}
			return runConfig(cmd.Context(), cfg, c.getenv, c.stdout)
		},
	}
	cfg.registryFlag(cmd)
	return cmd
}

// runConfig checks the registry cfg.Registry and prints what it found.
func runConfig(ctx context.Context, c Config, getenv func(string) string, stdout io.Writer) error {
	app, err := openRegistry(ctx, c.Registry, getenv, dsr.NewSubjectHasher(nil), nil)
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
	if err := printMentionCosts(ctx, app, stdout); err != nil {
		fmt.Fprintln(stdout, err)
		return fmt.Errorf("%w: %s does not pass", errFailed, c.Registry)
	}
	indexes, err := registry.MongoIndexes(ctx, app.Registry, app.Mongo.Documents())
	if err != nil {
		fmt.Fprintln(stdout, err)
		return fmt.Errorf("%w: %s does not pass", errFailed, c.Registry)
	}
	for _, line := range indexes {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "%s: ok (%d stores, %d collections, %d warnings, version %s)\n", c.Registry,
		len(app.Registry.Stores), len(app.Registry.Collections), len(app.Warnings), app.Registry.Version()[:12])
	return nil
}

// printMentionCosts prints, per collection that declares mentions, what
// an erasure's scan for them reads, and which index serves it or would.
func printMentionCosts(ctx context.Context, app *appStores, stdout io.Writer) error {
	for _, c := range app.Registry.Order() {
		st := app.Stores[c.Store]
		if len(c.Mentions) == 0 || st == nil {
			continue
		}
		cost, err := st.MentionCost(ctx, c)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("collections.%s.mentions: an erasure's scan reads %d rows, %d bytes of %s", c.Key, cost.Rows, cost.Bytes,
			strings.Join(c.MentionColumns(), ", "))
		switch {
		case cost.Index != "":
			line += fmt.Sprintf("; the %s index on %s selects the rows to read for a person known by an e-mail address alone (a name or phone number is looked for in every row)", cost.Index, c.MentionColumns()[0])
		case strings.HasPrefix(cost.Advice, "CREATE") || strings.HasPrefix(cost.Advice, "ALTER"):
			line += "; an index makes it read only the rows that may mention a person known by an e-mail address alone: " + cost.Advice
		default:
			line += "; " + cost.Advice
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}
