package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lethe-privacy/lethe/dsr"
)

// BackupTo writes a consistent copy of a SQLite state store to the file
// at path with SQLite's VACUUM INTO: one read transaction, so a lethe
// serve writing the store meanwhile neither waits nor tears the copy. The
// file is created 0600 (it holds what the store holds) and never
// replaced. Errors: EINVALID when path exists; EUNPROCESSABLE on
// Postgres, whose backups are pg_dump's (see deploy/README.md); the
// store's and the file system's, after which no partial file is left.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "a Postgres state store is backed up with pg_dump, after lethe audit checkpoint (lethe audit checkpoint && pg_dump --format=custom --file=FILE \"$LETHE_DATABASE_URL\"), not by lethe backup")
	}
	// VACUUM INTO accepts an empty file: creating it here, exclusively,
	// refuses to overwrite and sets its mode before any row is written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return dsr.Errorf(dsr.EINVALID, "%s already exists: a backup never replaces a file; name a new one", path)
	} else if err != nil {
		return fmt.Errorf("state: backup: %w", err)
	}
	f.Close()
	if _, err := db.SQL.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("state: backup to %s: %w", path, err)
	}
	return nil
}
