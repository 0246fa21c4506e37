// Command lethe is Lethe's single binary: the service (serve) and the
// operator's commands around it. main reads the subcommand and hands the
// rest of the arguments to it; each subcommand wires what it needs by plain
// assignment, so this file and serve.go show the whole service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `lethe: a privacy-compliance sidecar for data-subject requests and retention

Usage:
  lethe serve [flags]              run the HTTP service and its workers (--demo: embedded demo)
  lethe config check [--config P]  validate the registry against its live stores
  lethe plan --email E [--tenant T]
                                   dry run: what an erasure would touch
  lethe keys create --tenant T     issue a tenant key (printed once)
  lethe request --type T --email E [--tenant T]
                                   file an access or erasure request
  lethe request show ID            show one request
  lethe audit verify               check the audit trail's hash chain
  lethe retention run [--dry-run]  sweep expired rows now (progress on stderr)

Run "lethe COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lethe:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errUsage marks a command line that could not be understood (exit 2).
var errUsage = errors.New("usage")

// errFailed marks a command that ran and found a problem (exit 1).
var errFailed = errors.New("failed")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: a command is required", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		m := NewMain(stdout, stderr)
		if err := m.ParseFlags(rest); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "config":
		return runConfig(ctx, rest, stdout, stderr)
	case "plan":
		return runPlan(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "request":
		return runRequest(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "retention":
		return runRetention(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}
