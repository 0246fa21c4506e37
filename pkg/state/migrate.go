package state

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// migrationLock is the Postgres advisory lock key held while migrating.
const migrationLock = 0x4c65746865 // "Lethe"

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations of dialect in version order.
func Migrations(dialect string) ([]Migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("state: migrations for %s: %w", dialect, err)
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("state: migration %s: name must start with a number and '_'", e.Name())
		}
		body, err := fs.ReadFile(migrations, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrate applies the migrations not yet recorded in lethe_migrations, each
// in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	defer conn.Close()
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("state: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS lethe_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	all, err := Migrations(db.Dialect)
	if err != nil {
		return err
	}
	for _, m := range all {
		if err := applyMigration(ctx, conn, db.Dialect, m); err != nil {
			return fmt.Errorf("state: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, dialect string, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := "SELECT count(*) FROM lethe_migrations WHERE version = ?"
	if dialect == Postgres {
		q = "SELECT count(*) FROM lethe_migrations WHERE version = $1"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, m.Version).Scan(&n); err != nil || n > 0 {
		return err
	}
	for _, stmt := range strings.Split(m.SQL, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	ins := "INSERT INTO lethe_migrations (version, name) VALUES (?, ?)"
	if dialect == Postgres {
		ins = "INSERT INTO lethe_migrations (version, name) VALUES ($1, $2)"
	}
	if _, err := tx.ExecContext(ctx, ins, m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit()
}
