package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/ropa"
)

// newRopaCmd is "lethe ropa [--format csv|json|html] [--config PATH]".
func newRopaCmd(c *cli) *cobra.Command {
	var cfg Config
	var format string
	cmd := &cobra.Command{
		Use:   "ropa",
		Short: "Print the records of processing (GDPR Art. 30) of the registry",
		Long: `Build the records of processing activities (GDPR Art. 30) from the registry:
per purpose, the categories of data and of people, the recipients, transfers
outside the EEA where the registry declares them (transfers:), and how long
each collection is kept. Prints CSV (one row per purpose and collection), JSON,
or a self-contained printable HTML page. Reads LETHE_CONFIG; connects to no
store and needs no secret.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(ropa.Formats, format) {
				return fmt.Errorf("%w: --format: use %s", errUsage, strings.Join(ropa.Formats, ", "))
			}
			if cfg.Registry == "" {
				return fmt.Errorf("%w: name the registry with --config or LETHE_CONFIG", errUsage)
			}
			reg, err := registry.Load(cfg.Registry)
			if err != nil {
				fmt.Fprintln(c.stdout, err)
				return fmt.Errorf("%w: %s does not pass", errFailed, cfg.Registry)
			}
			return ropa.Write(c.stdout, ropa.Build(reg), format)
		},
	}
	cfg.registryFlag(cmd)
	cmd.Flags().StringVar(&format, "format", "csv", "csv, json or html")
	return cmd
}
