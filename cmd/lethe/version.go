package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// newVersionCmd is "lethe version": the build's module version, commit and
// Go version, as the Go toolchain recorded them in the binary, the
// migration level the binary carries and, with a state store configured,
// the level that store is at.
func newVersionCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build's version, commit, Go version and migration level",
		Long: `Print the build's version, commit and Go version, and the migration level
of the state store this binary carries (its highest migration). With
LETHE_DATABASE_URL or --database-url, also the level that store is at and
whether it is behind (lethe serve migrates it) or ahead (a newer Lethe
migrated it: this binary must not serve it). Nothing is migrated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				return fmt.Errorf("%w: this binary carries no build information", errFailed)
			}
			printVersion(c.stdout, info)
			dialect := state.Postgres
			var db *state.DB
			if cfg.DatabaseURL != "" {
				var err error
				if db, err = connectExisting(cmd.Context(), cfg.DatabaseURL); err != nil {
					return err
				}
				defer db.Close()
				dialect = db.Dialect
			}
			carried, err := state.EmbeddedLevel(dialect)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "migration level %d\n", carried)
			if db == nil {
				return nil
			}
			at, err := db.Level(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, storeLevel(db.Dialect, at, carried))
			return nil
		},
	}
	cfg.databaseFlag(cmd.Flags())
	return cmd
}

// storeLevel is the line that compares a store's migration level with the
// binary's.
func storeLevel(dialect string, at, carried int64) string {
	line := fmt.Sprintf("state store (%s) at migration level %d", dialect, at)
	switch {
	case at == 0:
		return line + ": empty; lethe serve migrates it to " + fmt.Sprint(carried)
	case at < carried:
		return line + fmt.Sprintf(": behind this binary (%d); lethe serve migrates it", carried)
	case at > carried:
		return line + fmt.Sprintf(": AHEAD of this binary (%d): a newer Lethe migrated it; run that version, not this one", carried)
	}
	return line + ": current"
}

// printVersion writes one line: "lethe VERSION (commit REV[-dirty], TIME) GOVERSION".
// A build outside a git checkout (or with -buildvcs=false) has no commit.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	fmt.Fprintf(w, "lethe %s", info.Main.Version)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		fmt.Fprintf(w, " (commit %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(w, ", %s", t)
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintf(w, " %s\n", info.GoVersion)
}

// checkLevel warns when the state store was migrated by a newer Lethe
// than this binary (a rollback): this binary's queries do not know the
// newer tables and columns, and it cannot undo them.
func (m *Main) checkLevel(ctx context.Context) {
	carried, err := state.EmbeddedLevel(m.DB.Dialect)
	if err != nil {
		return
	}
	if at, err := m.DB.Level(ctx); err == nil && at > carried {
		m.Logger.Warn("the state store is ahead of this binary: a newer Lethe migrated it; run that version (see deploy/README.md, Upgrades)",
			"store_level", at, "binary_level", carried)
	}
}
