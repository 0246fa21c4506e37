package state

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3/database"
)

// legacyTable is where Lethe's own migrator, before goose, recorded the
// versions it applied (version, name).
const legacyTable = "lethe_migrations"

// legacyStore is goose's version store with one addition: when goose
// creates the version table (it then records version 0, under the
// migration lock and in the same transaction), the versions recorded in
// lethe_migrations are recorded as applied too, so that a store migrated
// by the earlier migrator continues from where it stood instead of running
// its migrations again. lethe_migrations is left in place, unchanged.
type legacyStore struct {
	database.StoreExtender
	dialect string
}

// Insert records req; for version 0 it also carries over the legacy versions.
func (s *legacyStore) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	if err := s.StoreExtender.Insert(ctx, db, req); err != nil {
		return err
	}
	if req.Version != 0 {
		return nil
	}
	versions, err := s.legacyVersions(ctx, db)
	if err != nil {
		return fmt.Errorf("carry over %s: %w", legacyTable, err)
	}
	for _, v := range versions {
		if err := s.StoreExtender.Insert(ctx, db, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("carry over %s version %d: %w", legacyTable, v, err)
		}
	}
	return nil
}

// legacyVersions returns the versions in lethe_migrations, in order, or
// none when the table does not exist.
func (s *legacyStore) legacyVersions(ctx context.Context, db database.DBTxConn) ([]int64, error) {
	exists := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + legacyTable + "'"
	if s.dialect == Postgres {
		exists = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = '" + legacyTable + "'"
	}
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT version FROM "+legacyTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
