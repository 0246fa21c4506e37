package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/connector"
)

func (s *Store) newQuery() *query { return &query{driver: s.driver, fold: s.foldExpr} }

// Count counts each selection's rows in one statement:
// SELECT (SELECT count(*) FROM … WHERE …), (SELECT count(*) …), ….
func (s *Store) Count(ctx context.Context, sels []connector.Selection) ([]int64, error) {
	out := make([]int64, len(sels))
	if len(sels) == 0 {
		return out, nil
	}
	q := s.newQuery()
	for _, sel := range sels {
		if err := s.resolveTimes(ctx, q, sel); err != nil {
			return nil, err
		}
	}
	q.write("SELECT ")
	for i, sel := range sels {
		if i > 0 {
			q.write(", ")
		}
		q.write("(SELECT count(*) FROM ", q.ident(sel.Collection.Table), " WHERE ")
		if err := q.where(sel); err != nil {
			return nil, err
		}
		q.write(")")
	}
	dest := make([]any, len(sels))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Row().Scan(dest...); err != nil {
		return nil, s.fail(ctx, "count", keys(sels), err)
	}
	return out, nil
}

// Values returns distinct non-NULL values of cols in sel's rows, ascending,
// after *after: SELECT DISTINCT cols FROM t WHERE … AND cols > ? ORDER BY cols LIMIT n.
func (s *Store) Values(ctx context.Context, sel connector.Selection, cols []string, after *string, limit int) ([]string, error) {
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return nil, err
	}
	q.write("SELECT DISTINCT ", q.orderBy(cols), " FROM ", q.ident(sel.Collection.Table), " WHERE ")
	if err := q.where(sel); err != nil {
		return nil, err
	}
	for _, c := range cols {
		q.write(" AND ", q.col(c), " IS NOT NULL")
	}
	if err := q.after(cols, after); err != nil {
		return nil, err
	}
	q.write(" ORDER BY ", q.orderBy(cols), " LIMIT ", strconv.Itoa(limit))
	rows, err := s.scan(ctx, q, len(cols), 0)
	if err != nil {
		return nil, s.fail(ctx, "read", sel.Collection.Key, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
	}
	return out, nil
}

// Rows returns up to limit of sel's rows in primary-key order after *after,
// with the values of cols.
func (s *Store) Rows(ctx context.Context, sel connector.Selection, cols []string, after *string, limit int) ([]connector.Row, error) {
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return nil, err
	}
	pk := sel.Collection.PrimaryKey
	q.write("SELECT ", q.orderBy(pk))
	for _, c := range cols {
		q.write(", ", q.col(c))
	}
	q.write(" FROM ", q.ident(sel.Collection.Table), " WHERE ")
	if err := q.where(sel); err != nil {
		return nil, err
	}
	if err := q.after(pk, after); err != nil {
		return nil, err
	}
	q.write(" ORDER BY ", q.orderBy(pk), " LIMIT ", strconv.Itoa(limit))
	rows, err := s.scan(ctx, q, len(pk), len(cols))
	if err != nil {
		return nil, s.fail(ctx, "read", sel.Collection.Key, err)
	}
	return rows, nil
}

// scan runs q and reads each row as nKey key columns (encoded with
// connector.EncodeKey) followed by nVal nullable values.
func (s *Store) scan(ctx context.Context, q *query, nKey, nVal int) ([]connector.Row, error) {
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []connector.Row
	dest := make([]sql.NullString, nKey+nVal)
	ptrs := make([]any, len(dest))
	for i := range dest {
		ptrs[i] = &dest[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, nKey)
		for i := range parts {
			parts[i] = dest[i].String
		}
		row := connector.Row{Key: connector.EncodeKey(parts), Values: make([]*string, nVal)}
		for i := range nVal {
			if d := dest[nKey+i]; d.Valid {
				v := d.String
				row.Values[i] = &v
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func keys(sels []connector.Selection) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range sels {
		if !seen[s.Collection.Key] {
			seen[s.Collection.Key] = true
			out = append(out, s.Collection.Key)
		}
	}
	return strings.Join(out, ", ")
}
