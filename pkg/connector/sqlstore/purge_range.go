package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

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
	q, err := s.rangeDelete(ctx, sel, from, to)
	if err != nil {
		return 0, nil, err
	}
	ret, viaArgs := s.returned(q.ident(sel.Collection.Table), cols, via)
	if ret != "" {
		q.write(" RETURNING ", ret)
		q.args = append(q.args, viaArgs...)
	}
	return s.deleting(ctx, sel.Collection, q, returnedCount(cols, via))
}

// PurgeRangeTally implements retention.RangeStore: PurgeRange of t.Sel's
// rows that returns how many it deleted per tenant (t.By, or read through
// t.Via as Tally reads it) instead of each row's values; t.Files is
// ignored. On Postgres the server counts, and only a row per tenant comes
// back: the deleted rows are joined to their parents once per batch when
// each hop leads to its parent's primary key,
//
//	WITH lethe_d AS (DELETE FROM t WHERE ctid … RETURNING ref)
//	SELECT r1.tenant, count(*) FROM lethe_d AS r0 LEFT JOIN p AS r1 ON r1.id = r0.ref GROUP BY 1
//
// else grouped by what the first hop reads, each parent's tenant read once
// by the sub-selects Tally reads it with:
//
//	WITH lethe_d AS (DELETE FROM t WHERE ctid … RETURNING ref),
//	r0 AS (SELECT ref, count(*) AS n FROM lethe_d GROUP BY ref)
//	SELECT (SELECT r1.tenant FROM p AS r1 WHERE r1.id = r0.ref LIMIT 1), sum(n) FROM r0 GROUP BY 1
//
// On MariaDB, PurgeRange's rows are counted here.
func (s *Store) PurgeRangeTally(ctx context.Context, t retention.Tally, from, to int64) ([]retention.TallyGroup, error) {
	if s.driver != registry.DriverPostgres || (t.By == "" && len(t.Via) == 0) {
		return s.purgeRangeGrouped(ctx, t, from, to)
	}
	q, err := s.rangeDelete(ctx, t.Sel, from, to)
	if err != nil {
		return nil, err
	}
	ret := []string{t.By}
	if t.By == "" {
		ret = []string{t.Via[0].Column}
		for _, c := range t.Via[0].Where {
			if !slices.Contains(ret, c.Column) {
				ret = append(ret, c.Column)
			}
		}
	}
	cols := q.orderBy(ret)
	stmt := "WITH lethe_d AS (" + q.sql.String() + " RETURNING " + cols + ") SELECT "
	switch {
	case t.By != "":
		stmt += q.exact(tallied+"."+q.col(t.By)) + ", count(*) FROM lethe_d AS " + tallied + " GROUP BY 1"
	case byKey(t.Via):
		joins, value := tenantJoins(q, t.Via)
		stmt += q.exact(value) + ", count(*) FROM lethe_d AS " + tallied + joins + " GROUP BY 1"
	default:
		stmt = "WITH lethe_d AS (" + q.sql.String() + " RETURNING " + cols + "), " + tallied + " AS (SELECT " + cols +
			", count(*) AS lethe_n FROM lethe_d GROUP BY " + cols + ") SELECT " + q.exact(s.tenantExpr(q, tallied, t.Via, 1)) +
			", CAST(sum(lethe_n) AS bigint) FROM " + tallied + " GROUP BY 1"
	}
	rows, err := s.db.WithContext(ctx).Raw(stmt, q.args...).Rows()
	if err != nil {
		return nil, s.fail(ctx, "purge", t.Sel.Collection.Key, err)
	}
	defer rows.Close()
	var out []retention.TallyGroup
	for rows.Next() {
		var g retention.TallyGroup
		if err := rows.Scan(&g.Value, &g.Rows); err != nil {
			return nil, s.fail(ctx, "purge", t.Sel.Collection.Key, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "purge", t.Sel.Collection.Key, err)
	}
	return out, nil
}

// byKey reports whether every hop of path leads to its parent's primary
// key: one parent per reference, which a join reads as the sub-selects do.
func byKey(path []retention.TenantHop) bool {
	for _, hop := range path {
		if !slices.Equal(hop.Parent.PrimaryKey, []string{hop.ParentColumn}) {
			return false
		}
	}
	return len(path) > 0
}

// tenantJoins is, for a path byKey accepts, the LEFT JOINs from the row
// aliased tallied to its parents, each hop's conditions in its ON clause,
// and the tenant column they reach. A batch then reads its rows' parents
// in one join, which Postgres can hash, instead of one lookup per row.
func tenantJoins(q *query, path []retention.TenantHop) (joins, value string) {
	outer := tallied
	for i, hop := range path {
		alias := "lethe_r" + strconv.Itoa(i+1)
		joins += " LEFT JOIN " + q.ident(hop.Parent.Table) + " AS " + alias + " ON " + alias + "." + q.col(hop.ParentColumn) +
			" = " + outer + "." + q.col(hop.Column)
		for _, c := range hop.Where {
			joins += " AND " + outer + "." + q.col(c.Column) + " = ?"
			q.args = append(q.args, c.Value)
		}
		outer = alias
	}
	return joins, outer + "." + q.col(path[len(path)-1].Parent.Tenant)
}

// purgeRangeGrouped is PurgeRangeTally as PurgeRange's rows counted per
// tenant; without t.By or t.Via, one group of every row deleted, as Tally
// counts them (PurgeRange then returns no row to count).
func (s *Store) purgeRangeGrouped(ctx context.Context, t retention.Tally, from, to int64) ([]retention.TallyGroup, error) {
	var cols []string
	if t.By != "" {
		cols = []string{t.By}
	}
	n, rows, err := s.PurgeRange(ctx, t.Sel, cols, t.Via, from, to)
	if err != nil {
		return nil, err
	}
	if t.By == "" && len(t.Via) == 0 {
		return []retention.TallyGroup{{Rows: n}}, nil
	}
	vals := make([]any, len(rows))
	for i, r := range rows {
		if len(r) > 0 {
			vals[i] = r[len(r)-1]
		}
	}
	return retention.GroupValues(vals), nil
}

// rangeDelete writes the DELETE of the rows sel selects stored in pages
// [from, to) of its table, without RETURNING (see PurgeRange).
func (s *Store) rangeDelete(ctx context.Context, sel connector.Selection, from, to int64) (*query, error) {
	if err := bounded(sel); err != nil {
		return nil, err
	}
	if err := s.checkKey(ctx, sel.Collection); err != nil {
		return nil, err
	}
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return nil, err
	}
	switch {
	case s.driver == registry.DriverPostgres:
		q.write("DELETE FROM ", q.ident(sel.Collection.Table), " WHERE ctid >= CAST(").arg(fmt.Sprintf("(%d,0)", from)).
			write(" AS tid) AND ctid < CAST(").arg(fmt.Sprintf("(%d,0)", to)).write(" AS tid) AND ")
	case s.driver == registry.DriverMySQL && len(sel.Collection.PrimaryKey) == 1 && s.isMariaDB(ctx):
		pk := q.col(sel.Collection.PrimaryKey[0])
		q.write("DELETE FROM ", q.ident(sel.Collection.Table), " WHERE ", pk, " >= ").arg(from).write(" AND ", pk, " < ").arg(to).write(" AND ")
	default:
		return nil, fmt.Errorf("purge %s: ranges are for postgres and mariadb stores", sel.Collection.Key)
	}
	if err := q.where(sel); err != nil {
		return nil, err
	}
	return q, nil
}
