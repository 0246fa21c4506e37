// Command lethe is Lethe's single binary: the service (serve) and the
// operator's commands around it. The command tree is built here with
// spf13/cobra, one small file per command; each command wires what it
// needs by plain assignment, so serve.go shows the whole service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// errUsage marks a command line that could not be understood (exit 2).
var errUsage = errors.New("usage")

// errFailed marks a command that ran and found a problem (exit 1).
var errFailed = errors.New("failed")

// cli is what every command receives: where it writes and how it reads
// the environment (os.Getenv but in tests).
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// started is set once the command line is understood and the command
	// begins: an error before that is a usage error.
	started bool
}

// run executes one command line and returns its exit code: 0, 1 when the
// command ran and failed, 2 when the command line was not understood.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	root := newRootCmd(c)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "lethe:", err)
	if errors.Is(err, errUsage) || !c.started {
		fmt.Fprintf(stderr, "Run \"%s --help\" for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}

// newRootCmd builds the command tree. A command is one file holding its
// constructor; adding one is that file and one line here or in its group.
func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "lethe COMMAND",
		Short: "A privacy-compliance sidecar for data-subject requests and retention",
		Long: `Lethe answers data-subject requests (access, erasure) and sweeps expired data
from an application's stores, as its registry (lethe.yaml) describes them.

Every flag that has a LETHE_* variable says so in its help; a flag given on
the command line beats its variable, which beats the default.`,
		SilenceErrors:         true,
		SilenceUsage:          true,
		DisableFlagsInUseLine: true,
		Args:                  cobra.NoArgs,
		RunE:                  needsSubcommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			c.started = true
			return applyEnv(cmd.Flags(), c.getenv)
		},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	root.AddCommand(
		newServeCmd(c),
		group("config", "Check the registry", newConfigCheckCmd(c)),
		newPlanCmd(c),
		newRequestCmd(c),
		group("keys", "Manage tenant keys and rotate Lethe's own keys", newKeysCreateCmd(c), newKeysRotateCmd(c), newKeysRotateCheckCmd(c), newKeysMigrateCmd(c)),
		group("tenants", "Register and list studios", newTenantsCreateCmd(c), newTenantsListCmd(c)),
		group("audit", "Check, export and anchor the audit trail", newAuditVerifyCmd(c), newAuditExportCmd(c), newAuditPubkeyCmd(c),
			newAuditCheckpointCmd(c), newAuditAcceptRestoreCmd(c)),
		newBackupCmd(c),
		group("retention", "Run retention sweeps", newRetentionRunCmd(c)),
		newRopaCmd(c),
		newVersionCmd(c),
		newHealthcheckCmd(c),
	)
	return root
}

// group returns a command that only holds subcommands.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: name + " COMMAND", Short: short, Args: cobra.ArbitraryArgs, RunE: needsSubcommand,
		DisableFlagsInUseLine: true}
	g.AddCommand(subs...)
	return g
}

// needsSubcommand is the action of a command that needs a subcommand:
// its help on stderr and a usage error naming what was given.
func needsSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: unknown command %q for %q", errUsage, args[0], cmd.CommandPath())
	}
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Help()
	return fmt.Errorf("%w: %q needs a command", errUsage, cmd.CommandPath())
}
