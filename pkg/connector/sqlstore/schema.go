package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Columns returns the columns of table in the live database; exists is false
// when there is no such table. A "schema.table" name is looked up in that
// schema (Postgres) or database (MySQL).
func (s *Store) Columns(ctx context.Context, table string) ([]string, bool, error) {
	schema, name := splitTable(table)
	var query string
	var args []any
	switch s.driver {
	case registry.DriverPostgres:
		query = `SELECT column_name FROM information_schema.columns
			WHERE table_schema = COALESCE(?, current_schema()) AND table_name = ? ORDER BY ordinal_position`
		args = []any{schema, name}
	case registry.DriverMySQL:
		query = `SELECT COLUMN_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`
		args = []any{schema, name}
	default:
		query, args = `SELECT name FROM pragma_table_info(?) ORDER BY cid`, []any{table}
	}
	cols, err := s.strings(ctx, query, args...)
	if err != nil {
		return nil, false, s.fail(ctx, "read the columns of", table, err)
	}
	return cols, len(cols) > 0, nil
}

// Indexes returns the indexes of table with their first plain column (none
// for an expression index) and, where the database keeps it, their SQL.
func (s *Store) Indexes(ctx context.Context, table string) ([]registry.Index, error) {
	schema, name := splitTable(table)
	var query string
	var args []any
	switch s.driver {
	case registry.DriverPostgres:
		query = `SELECT ic.relname, pg_get_indexdef(ix.indexrelid),
				(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = ix.indrelid AND a.attnum = ix.indkey[0])
			FROM pg_index ix
			JOIN pg_class ic ON ic.oid = ix.indexrelid
			JOIN pg_class tc ON tc.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = tc.relnamespace
			WHERE n.nspname = COALESCE(?, current_schema()) AND tc.relname = ?`
		args = []any{schema, name}
	case registry.DriverMySQL:
		query = `SELECT INDEX_NAME, '', COLUMN_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1`
		args = []any{schema, name}
	default:
		query = `SELECT il.name, COALESCE(m.sql, ''),
				(SELECT ii.name FROM pragma_index_info(il.name) ii WHERE ii.seqno = 0)
			FROM pragma_index_list(?) il LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name`
		args = []any{table}
	}
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, s.fail(ctx, "read the indexes of", table, err)
	}
	defer rows.Close()
	var out []registry.Index
	for rows.Next() {
		var ix registry.Index
		var first sql.NullString
		if err := rows.Scan(&ix.Name, &ix.Definition, &first); err != nil {
			return nil, fmt.Errorf("read the indexes of %s: %w", table, err)
		}
		if first.Valid && first.String != "" {
			ix.Columns = []string{first.String}
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// strings returns the first column of query's rows.
func (s *Store) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	if err := s.db.WithContext(ctx).Raw(query, args...).Scan(&out).Error; err != nil {
		return nil, err
	}
	return out, nil
}

// splitTable splits "schema.table"; schema is nil without a dot.
func splitTable(table string) (schema any, name string) {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		return table[:i], table[i+1:]
	}
	return nil, table
}
