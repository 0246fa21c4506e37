package state

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// migrations holds one folder of goose SQL migrations per dialect
// (migrations/postgres, migrations/sqlite), each file named
// NNNN_what.sql and starting with "-- +goose Up".
//
//go:embed migrations
var migrations embed.FS

// VersionTable is where goose records the migrations applied to a state
// store.
const VersionTable = "lethe_goose_db_version"

// migrate applies the migrations not yet applied, each in its own
// transaction, while holding a lock on the store so that replicas starting
// together migrate once: the others wait, then find nothing to do. A store
// migrated by Lethe's earlier migrator (lethe_migrations) continues from
// the versions recorded there. Errors name the migration that failed.
func (db *DB) migrate(ctx context.Context) error {
	p, err := db.migrator(ctx)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("state: migrate %s: %w", db.Dialect, err)
	}
	return nil
}

// migrator returns the goose provider of the store's dialect.
func (db *DB) migrator(ctx context.Context) (*goose.Provider, error) {
	dir, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, fmt.Errorf("state: migrations for %s: %w", db.Dialect, err)
	}
	dialect := database.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = database.DialectPostgres
	}
	locker, err := db.locker(ctx)
	if err != nil {
		return nil, err
	}
	inner, err := database.NewStore(dialect, VersionTable)
	if err != nil {
		return nil, fmt.Errorf("state: migrations for %s: %w", db.Dialect, err)
	}
	ext, ok := inner.(database.StoreExtender)
	if !ok {
		return nil, fmt.Errorf("state: migrations for %s: goose's store cannot tell whether %s exists", db.Dialect, VersionTable)
	}
	store := &legacyStore{StoreExtender: ext, dialect: db.Dialect}
	p, err := goose.NewProvider(database.DialectCustom, db.SQL, dir,
		goose.WithStore(store),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()))
	if err != nil {
		return nil, fmt.Errorf("state: migrations for %s: %w", db.Dialect, err)
	}
	return p, nil
}

// MigrationStatus is one embedded migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string // the file name, such as 0001_init.sql
	Applied bool
}

// Migrations lists the embedded migrations of the store's dialect in
// version order, each with whether the store has applied it.
func (db *DB) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.migrator(ctx)
	if err != nil {
		return nil, err
	}
	all, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: migration status: %w", err)
	}
	out := make([]MigrationStatus, len(all))
	for i, s := range all {
		out[i] = MigrationStatus{Version: s.Source.Version, Name: path.Base(s.Source.Path), Applied: s.State == goose.StateApplied}
	}
	return out, nil
}
