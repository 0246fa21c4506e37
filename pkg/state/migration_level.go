package state

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// EmbeddedLevel is the migration level this binary carries for dialect
// (Postgres or SQLite): the version of its highest embedded migration.
// Errors: an unknown dialect, or a file not named NNNN_what.sql.
func EmbeddedLevel(dialect string) (int64, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+dialect)
	if err != nil {
		return 0, fmt.Errorf("state: migrations for %q: %w", dialect, err)
	}
	var level int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("state: migration %s: its name must start with its version", e.Name())
		}
		level = max(level, v)
	}
	return level, nil
}

// Level is the migration level the store is at: the highest version it
// recorded as applied (goose's table, or the earlier migrator's
// lethe_migrations), 0 for an empty store. It only reads: no table is
// created, no lock taken. Errors: the store's.
func (db *DB) Level(ctx context.Context) (int64, error) {
	for _, q := range []struct{ table, max string }{
		{VersionTable, "SELECT COALESCE(max(version_id), 0) FROM " + VersionTable + " WHERE is_applied"},
		{legacyTable, "SELECT COALESCE(max(version), 0) FROM " + legacyTable},
	} {
		exists := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
		if db.Dialect == Postgres {
			exists = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, exists, q.table).Scan(&n); err != nil {
			return 0, fmt.Errorf("state: migration level: %w", err)
		}
		if n == 0 {
			continue
		}
		var level int64
		if err := db.SQL.QueryRowContext(ctx, q.max).Scan(&level); err != nil {
			return 0, fmt.Errorf("state: migration level: read %s: %w", q.table, err)
		}
		return level, nil
	}
	return 0, nil
}
