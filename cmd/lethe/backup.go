package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newBackupCmd is "lethe backup --to FILE": a consistent copy of a SQLite
// state store, safe while lethe serve runs on it.
func newBackupCmd(c *cli) *cobra.Command {
	var cfg Config
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Copy a SQLite state store to a new file, safe while lethe serve runs",
		Long: `Write a consistent copy of the SQLite state store to FILE with SQLite's
VACUUM INTO, in one read transaction: lethe serve may go on writing the
store meanwhile. FILE must not exist; it is created 0600, as it holds what
the store holds (open requests' email addresses included). Restore by
stopping lethe serve and copying FILE back in place of the store.

With LETHE_AUDIT_KEY set, it then signs a checkpoint of the copy's audit
head into the anchor bucket (a backup checkpoint): restored, the chain ends
at an anchored entry, which lethe audit accept-restore checks.

A Postgres state store is backed up with pg_dump, not by this command:
it says so and exits 2. See deploy/README.md, "Backups and restore".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "to"); err != nil {
				return err
			}
			ctx := cmd.Context()
			url := cfg.DatabaseURL
			if url == "" {
				url = state.DefaultURL
			}
			db, err := connectExisting(ctx, url)
			if err != nil {
				return err
			}
			defer db.Close()
			level, err := db.Level(ctx)
			if err != nil {
				return err
			}
			if db.Dialect != state.SQLite {
				return fmt.Errorf("%w: %s", errUsage, dsr.ErrorMessage(db.BackupTo(ctx, to)))
			}
			if err := db.BackupTo(ctx, to); err != nil {
				return cliError(err)
			}
			fi, err := os.Stat(to)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "backed up the SQLite state store (migration level %d) to %s, %d bytes\n", level, to, fi.Size())
			if cfg.AuditKey == "" {
				return nil
			}
			cp, err := backupCheckpoint(ctx, cfg, db, to)
			if err != nil {
				return fmt.Errorf("the backup %s is written, but its audit head is not anchored (lethe audit accept-restore will ask, after restoring it, for the entries past the last checkpoint): %w", to, err)
			}
			if cp != nil {
				fmt.Fprintf(c.stdout, "backup checkpoint of audit entry %d signed into the anchor\n", cp.Seq)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cfg.databaseFlag(fs)
	cfg.auditFlags(fs)
	cfg.exportURLFlag(fs)
	fs.StringVar(&to, "to", "", "file to write; it must not exist")
	return cmd
}

// connectExisting connects to the state store at url without migrating
// it, and without creating a SQLite file that is not there. Errors: a
// usage error for a missing file; state.Connect's.
func connectExisting(ctx context.Context, url string) (*state.DB, error) {
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w: no SQLite state store at %s: %v", errUsage, path, err)
		}
	}
	return state.Connect(ctx, url)
}

// backupCheckpoint signs the audit head of the backup at path, which db's
// chain must hold, into the anchor; nil for an empty chain.
func backupCheckpoint(ctx context.Context, cfg Config, db *state.DB, path string) (*dsr.Checkpoint, error) {
	copyDB, err := connectExisting(ctx, "sqlite://"+path)
	if err != nil {
		return nil, err
	}
	seq, hash, err := copyDB.AuditHead(ctx)
	copyDB.Close()
	if err != nil || seq == 0 {
		return nil, err
	}
	log, bucket, err := auditLog(ctx, cfg, db, nil)
	if err != nil {
		return nil, err
	}
	defer bucket.Close()
	return log.BackupCheckpoint(ctx, seq, hash)
}
