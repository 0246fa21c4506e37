package main

import (
	"context"
	"fmt"
	"io"
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
createIndex to run). Reads
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
