package sqlstore

import (
	"context"
	"database/sql"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
)

var _ engine.Streamer = (*Store)(nil)

// Stream runs SELECT * FROM t WHERE … ORDER BY pk and calls fn for each row
// as the driver delivers it, so a subject with a million rows is never held
// in memory. The values slice is reused between rows. Errors name the
// collection; a store that stopped answering is EUNAVAILABLE.
func (s *Store) Stream(ctx context.Context, sel connector.Selection, fn func(columns []string, values []any) error) error {
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return err
	}
	q.write("SELECT * FROM ", q.ident(sel.Collection.Table), " WHERE ")
	if err := q.where(sel); err != nil {
		return err
	}
	q.write(" ORDER BY ", q.orderBy(sel.Collection.PrimaryKey))
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Rows()
	if err != nil {
		return s.fail(ctx, "stream", sel.Collection.Key, err)
	}
	return s.streamRows(ctx, rows, "stream", sel.Collection.Key, fn)
}

// streamRows calls fn for each of rows and closes them. fn's error is
// returned as it is; the driver's are classified by fail with what and key.
func (s *Store) streamRows(ctx context.Context, rows *sql.Rows, what, key string, fn func(columns []string, values []any) error) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return s.fail(ctx, what, key, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s.fail(ctx, what, key, err)
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(ctx, what, key, err)
	}
	return nil
}
