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
// joined by UNION ALL, each grouped by its By column when it has one, or
// by the tenant its Via reads from the parents (a sub-select per hop, as
// Rewrite reads it):
//
//	SELECT 0, CAST(by AS text), count(*), count(NULLIF(CAST(file AS text), '')) FROM t AS r0 WHERE … GROUP BY 2
//	UNION ALL SELECT 1, CAST((SELECT r1.by FROM p AS r1 WHERE r1.id = r0.p_id LIMIT 1) AS text), count(*), 0 FROM u AS r0 WHERE … GROUP BY 2
//	UNION ALL SELECT 2, NULL, count(*), 0 FROM v AS r0 WHERE …
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
		switch {
		case t.By != "":
			by = q.exact(q.col(t.By))
		case len(t.Via) > 0:
			by = q.exact(s.tenantExpr(q, tallied, t.Via, 1))
		}
		files := "0"
		for j, col := range t.Files {
			if j == 0 {
				files = ""
			} else {
				files += " + "
			}
			files += "count(NULLIF(" + q.exact(q.col(col)) + ", ''))"
		}
		q.write("SELECT ", strconv.Itoa(i), ", ", by, ", count(*), ", files, " FROM ", q.ident(t.Sel.Collection.Table), " AS ", tallied, " WHERE ")
		if err := q.where(t.Sel); err != nil {
			return nil, err
		}
		if by != "NULL" {
			q.write(" GROUP BY 2") // by position: the tenant's sub-select has parameters
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

// tallied is the alias of the table a tally counts, which the sub-select
// reading a row's tenant through its parents refers to.
const tallied = "lethe_r0"

// exact is expr (a column or a scalar sub-select) as text that compares
// byte for byte, whatever its type and collation.
func (q *query) exact(expr string) string {
	switch q.driver {
	case registry.DriverMySQL:
		return "CAST(" + expr + " AS BINARY)"
	case registry.DriverPostgres:
		return "CAST(" + expr + ` AS text) COLLATE "C"`
	}
	return "CAST(" + expr + " AS TEXT) COLLATE BINARY"
}
