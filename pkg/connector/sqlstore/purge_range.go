package sqlstore

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Extent returns, on Postgres for a plain table, the number of pages of c's table and the
// average rows per page from the planner's statistics, with ok=true. On
// MariaDB, for a table whose primary key is one integer column, a "page" is
// a primary-key value: Extent returns the largest key plus one and the rows
// per key value (see keyExtent). Other tables and dialects answer ok=false
// (they purge with Purge). Errors name the collection; an unreachable store
// is EUNAVAILABLE.
func (s *Store) Extent(ctx context.Context, c *registry.Collection) (pages int64, rowsPerPage float64, ok bool, err error) {
	if s.driver == registry.DriverMySQL {
		return s.keyExtent(ctx, c)
	}
	// A partitioned or inherited table has no pages of its own (its rows are
	// in its children): it is purged with Purge, like other dialects.
	if byAddress, err := s.addressable(ctx, c); err != nil || !byAddress {
		return 0, 0, false, err
	}
	name := registry.QuoteIdent(s.driver, c.Table)
	err = s.db.WithContext(ctx).Raw(`SELECT pg_relation_size(CAST(? AS regclass)) / current_setting('block_size')::bigint,
			COALESCE(NULLIF(reltuples, -1) / NULLIF(relpages, 0), 0)::float8
		FROM pg_class WHERE oid = CAST(? AS regclass)`, name, name).Row().Scan(&pages, &rowsPerPage)
	if err != nil {
		return 0, 0, false, s.fail(ctx, "size", c.Key, err)
	}
	return pages, rowsPerPage, true, nil
}

// PurgeRange deletes, in one statement, the rows sel selects among those
// stored in pages [from, to) of the table (Postgres), and returns how many
// and, per deleted row, the values of cols and the tenant read through via:
//
//	DELETE FROM t WHERE ctid >= '(from,0)' AND ctid < '(to,0)' AND … RETURNING cols
//
// Postgres runs it as a TID range scan: a sweep walks the table once, in
// storage order, however its rows are dated, so it reads what one big
// DELETE would read, in bounded transactions. Errors as for Purge.
func (s *Store) PurgeRange(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, from, to int64) (int64, [][]any, error) {
	if err := bounded(sel); err != nil {
		return 0, nil, err
	}
	if err := s.checkKey(ctx, sel.Collection); err != nil {
		return 0, nil, err
	}
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case s.driver == registry.DriverPostgres:
		q.write("DELETE FROM ", q.ident(sel.Collection.Table), " WHERE ctid >= CAST(").arg(fmt.Sprintf("(%d,0)", from)).
			write(" AS tid) AND ctid < CAST(").arg(fmt.Sprintf("(%d,0)", to)).write(" AS tid) AND ")
	case s.driver == registry.DriverMySQL && len(sel.Collection.PrimaryKey) == 1 && s.isMariaDB(ctx):
		pk := q.col(sel.Collection.PrimaryKey[0])
		q.write("DELETE FROM ", q.ident(sel.Collection.Table), " WHERE ", pk, " >= ").arg(from).write(" AND ", pk, " < ").arg(to).write(" AND ")
	default:
		return 0, nil, fmt.Errorf("purge %s: ranges are for postgres and mariadb stores", sel.Collection.Key)
	}
	if err := q.where(sel); err != nil {
		return 0, nil, err
	}
	ret, viaArgs := s.returned(q.ident(sel.Collection.Table), cols, via)
	if ret == "" {
		res := s.db.WithContext(ctx).Exec(q.sql.String(), q.args...)
		if res.Error != nil {
			return 0, nil, s.fail(ctx, "purge", sel.Collection.Key, res.Error)
		}
		return res.RowsAffected, nil, nil
	}
	q.write(" RETURNING ", ret)
	q.args = append(q.args, viaArgs...)
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Rows()
	if err != nil {
		return 0, nil, s.fail(ctx, "purge", sel.Collection.Key, err)
	}
	out, err := scanAny(rows, returnedCount(cols, via))
	if err != nil {
		return 0, nil, s.fail(ctx, "purge", sel.Collection.Key, err)
	}
	return int64(len(out)), out, nil
}
