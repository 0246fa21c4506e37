package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

var _ registry.Sampler = (*Store)(nil)

// Sample implements registry.Sampler for config check:
// SELECT col FROM t WHERE col IS NOT NULL LIMIT n. The values are read as
// text and never logged.
func (s *Store) Sample(ctx context.Context, table, column string, limit int) ([]string, error) {
	q := s.newQuery()
	q.write("SELECT ", q.col(column), " FROM ", q.ident(table), " WHERE ", q.col(column), " IS NOT NULL LIMIT ", strconv.Itoa(limit))
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String()).Rows()
	if err != nil {
		return nil, s.fail(ctx, "sample", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, s.fail(ctx, "sample", table, err)
		}
		out = append(out, v.String)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "sample", table, err)
	}
	return out, nil
}
