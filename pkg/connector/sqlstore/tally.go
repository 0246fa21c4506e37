package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Tally counts every tally's rows in one statement, one SELECT per tally
// joined by UNION ALL, each grouped by its By column when it has one:
//
//	SELECT 0, CAST(by AS text), count(*), count(NULLIF(CAST(file AS text), '')) FROM t WHERE … GROUP BY CAST(by AS text)
//	UNION ALL SELECT 1, NULL, count(*), 0 FROM u WHERE …
//
// The By values are compared byte for byte (a case-insensitive collation
// would merge two tenants a sweep counts apart) and returned as text.
func (s *Store) Tally(ctx context.Context, ts []retention.Tally) ([][]retention.TallyGroup, error) {
	out := make([][]retention.TallyGroup, len(ts))
	if len(ts) == 0 {
		return out, nil
	}
	q := s.newQuery()
	sels := make([]connector.Selection, len(ts))
	for i, t := range ts {
		if err := s.resolveTimes(ctx, q, t.Sel); err != nil {
			return nil, err
		}
		sels[i] = t.Sel
	}
	for i, t := range ts {
		if i > 0 {
			q.write(" UNION ALL ")
		}
		by := "NULL"
		if t.By != "" {
			by = q.exact(t.By)
		}
		files := "0"
		for j, col := range t.Files {
			if j == 0 {
				files = ""
			} else {
				files += " + "
			}
			files += "count(NULLIF(" + q.exact(col) + ", ''))"
		}
		q.write("SELECT ", strconv.Itoa(i), ", ", by, ", count(*), ", files, " FROM ", q.ident(t.Sel.Collection.Table), " WHERE ")
		if err := q.where(t.Sel); err != nil {
			return nil, err
		}
		if t.By != "" {
			q.write(" GROUP BY ", by)
		}
	}
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String(), q.args...).Rows()
	if err != nil {
		return nil, s.fail(ctx, "count", keys(sels), err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var g retention.TallyGroup
		if err := rows.Scan(&i, &g.Value, &g.Rows, &g.Files); err != nil {
			return nil, s.fail(ctx, "count", keys(sels), err)
		}
		if i < 0 || i >= len(ts) {
			return nil, fmt.Errorf("count %s: row of tally %d of %d", keys(sels), i, len(ts))
		}
		out[i] = append(out[i], g)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "count", keys(sels), err)
	}
	return out, nil
}

// exact is column col as text that compares byte for byte, whatever the
// column's type and collation.
func (q *query) exact(col string) string {
	switch q.driver {
	case registry.DriverMySQL:
		return "CAST(" + q.col(col) + " AS BINARY)"
	case registry.DriverPostgres:
		return "CAST(" + q.col(col) + ` AS text) COLLATE "C"`
	}
	return "CAST(" + q.col(col) + " AS TEXT) COLLATE BINARY"
}
