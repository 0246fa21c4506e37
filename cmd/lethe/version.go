package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// newVersionCmd is "lethe version": the build's module version, commit and
// Go version, as the Go toolchain recorded them in the binary.
func newVersionCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				return fmt.Errorf("%w: this binary carries no build information", errFailed)
			}
			printVersion(c.stdout, info)
			return nil
		},
	}
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
