package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Purge deletes up to limit of sel's rows in one statement (one
// transaction) for a retention sweep, oldest first when sel.Older is set,
// and returns how many it deleted and, for each deleted row, the values of
// cols (file keys, the cutoff column) as the driver returned them: a
// time.Time, a string, an int64 or nil, then with via the row's tenant,
// read by a sub-select per hop in the RETURNING list (Rewrite's), which
// costs one lookup of the parent by its key per row. On Postgres:
//
//	DELETE FROM t WHERE ctid = ANY(ARRAY(SELECT ctid FROM t WHERE … ORDER BY ts LIMIT n)) RETURNING cols
//
// on SQLite the same by primary key, and on MariaDB through a derived table,
// which MariaDB needs to read the table it deletes from:
//
//	DELETE FROM t WHERE pk IN (SELECT pk FROM (SELECT pk FROM t WHERE … ORDER BY ts LIMIT n) AS lethe_batch) RETURNING cols
//
// MySQL has no DELETE … RETURNING: there the rows are read with FOR UPDATE
// and deleted by primary key in one transaction.
//
// Errors: a selection of every row without a cutoff is refused; a store
// that cannot be reached is EUNAVAILABLE; other errors name the collection.
func (s *Store) Purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int) (int64, [][]any, error) {
	if err := bounded(sel); err != nil {
		return 0, nil, err
	}
	c := sel.Collection
	if err := s.checkKey(ctx, c); err != nil {
		return 0, nil, err
	}
	q := s.newQuery()
	t, pk := q.ident(c.Table), q.orderBy(c.PrimaryKey)
	inner, err := s.selecting(ctx, sel)
	if err != nil {
		return 0, nil, err
	}
	if err := inner.where(sel); err != nil {
		return 0, nil, err
	}
	order := ""
	if sel.Older != nil {
		order = " ORDER BY " + q.col(sel.Older.Column)
	}
	limitSQL := " LIMIT " + strconv.Itoa(limit)
	ret, viaArgs := s.returned(t, cols, via)
	returning := ""
	if ret != "" {
		returning = " RETURNING " + ret
	}
	byAddress, err := s.addressable(ctx, c)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case byAddress:
		q.write("DELETE FROM ", t, " WHERE ctid = ANY(ARRAY(SELECT ctid FROM ", t, " WHERE ")
		q.write(inner.sql.String(), order, limitSQL, "))", returning)
	case s.driver == registry.DriverSQLite || s.driver == registry.DriverPostgres:
		q.write("DELETE FROM ", t, " WHERE ", q.cols(c.PrimaryKey), " IN (SELECT ", pk, " FROM ", t, " WHERE ")
		q.write(inner.sql.String(), order, limitSQL, ")", returning)
	case ret == "" || s.isMariaDB(ctx):
		q.write("DELETE FROM ", t, " WHERE ", q.cols(c.PrimaryKey), " IN (SELECT ", pk,
			" FROM (SELECT ", pk, " FROM ", t, " WHERE ")
		q.write(inner.sql.String(), order, limitSQL, ") AS lethe_batch)", returning)
	default:
		return s.purgeMySQL(ctx, sel, inner, order+limitSQL, ret, viaArgs, returnedCount(cols, via))
	}
	q.args = append(inner.args, viaArgs...)
	return s.deleting(ctx, c, q, returnedCount(cols, via))
}

// deleting runs a purge's DELETE q of c's rows and returns how many it
// deleted and, when its RETURNING list has n > 0 values, each row's values.
func (s *Store) deleting(ctx context.Context, c *registry.Collection, q *query, n int) (int64, [][]any, error) {
	if n == 0 {
		res := s.db.WithContext(ctx).Exec(q.sql.String(), q.args...)
		if res.Error != nil {
			return 0, nil, s.fail(ctx, "purge", c.Key, res.Error)
		}
		return res.RowsAffected, nil, nil
	}
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Rows()
	if err != nil {
		return 0, nil, s.fail(ctx, "purge", c.Key, err)
	}
	out, err := scanAny(rows, n)
	if err != nil {
		return 0, nil, s.fail(ctx, "purge", c.Key, err)
	}
	return int64(len(out)), out, nil
}

// returned is the list of values a purge of table t returns: cols, then
// the tenant read through via (the sub-selects Rewrite reads it with),
// with the parameters of via's conditions; "" for none.
func (s *Store) returned(t string, cols []string, via []retention.TenantHop) (string, []any) {
	q := s.newQuery()
	out := q.orderBy(cols)
	if len(via) == 0 {
		return out, nil
	}
	if out != "" {
		out += ", "
	}
	return out + s.tenantExpr(q, t, via, 1), q.args
}

// returnedCount is how many values returned lists.
func returnedCount(cols []string, via []retention.TenantHop) int {
	if len(via) > 0 {
		return len(cols) + 1
	}
	return len(cols)
}

// purgeMySQL is Purge for MySQL servers without DELETE … RETURNING: the n
// values ret lists (with its parameters args) are read instead.
func (s *Store) purgeMySQL(ctx context.Context, sel connector.Selection, where *query, tail, ret string, args []any, n int) (int64, [][]any, error) {
	c := sel.Collection
	q := s.newQuery()
	q.write("SELECT ", q.orderBy(c.PrimaryKey), ", ", ret, " FROM ", q.ident(c.Table), " WHERE ",
		where.sql.String(), tail, " FOR UPDATE")
	q.args = append(append([]any(nil), args...), where.args...)
	var out [][]any
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rows, err := tx.Raw(q.sql.String(), q.args...).Rows()
		if err != nil {
			return err
		}
		got, err := scanAny(rows, len(c.PrimaryKey)+n)
		if err != nil || len(got) == 0 {
			return err
		}
		keys := make([]string, len(got))
		for i, r := range got {
			parts := make([]string, len(c.PrimaryKey))
			for j := range parts {
				parts[j] = retention.Text(r[j])
			}
			keys[i] = connector.EncodeKey(parts)
			out = append(out, r[len(c.PrimaryKey):])
		}
		d := s.newQuery()
		d.write("DELETE FROM ", d.ident(c.Table), " WHERE ")
		if err := d.in(c.PrimaryKey, keys); err != nil {
			return err
		}
		return tx.Exec(d.sql.String(), d.args...).Error
	})
	if err != nil {
		return 0, nil, s.fail(ctx, "purge", c.Key, err)
	}
	return int64(len(out)), out, nil
}

// isMariaDB reports whether a mysql store's server is MariaDB, asking once.
// A failed question is not cached and answers false.
func (s *Store) isMariaDB(ctx context.Context) bool {
	switch s.mariadb.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	var v string
	if err := s.db.WithContext(ctx).Raw("SELECT VERSION()").Row().Scan(&v); err != nil {
		return false
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		s.mariadb.Store(1)
		return true
	}
	s.mariadb.Store(2)
	return false
}

// scanAny reads rows of n columns as driver values; []byte becomes string.
func scanAny(rows *sql.Rows, n int) ([][]any, error) {
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
