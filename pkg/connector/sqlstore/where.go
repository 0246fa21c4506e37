package sqlstore

import (
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// query accumulates one SQL statement's text and parameters. Identifiers go
// through ident/col (quoted by the dialect); values only through arg.
type query struct {
	driver string
	// fold returns the expression folding an identity column as
	// dsr.FoldEmail does (Store.foldExpr).
	fold func(table, col string) (string, error)
	sql  strings.Builder
	args []any
	// times holds how the cut-off columns of the selections being written
	// store time, by table and column (see Store.resolveTimes).
	times map[string]timeColumn
}

func (q *query) write(parts ...string) *query {
	for _, p := range parts {
		q.sql.WriteString(p)
	}
	return q
}

func (q *query) arg(v any) *query {
	q.sql.WriteByte('?')
	q.args = append(q.args, v)
	return q
}

func (q *query) ident(name string) string { return registry.QuoteIdent(q.driver, name) }
func (q *query) col(name string) string   { return registry.QuoteColumn(q.driver, name) }

// cols writes a column list: "a" or ("a", "b").
func (q *query) cols(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = q.col(n)
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// where writes the condition selecting sel's rows.
func (q *query) where(sel connector.Selection) error {
	c := sel.Collection
	q.write("(")
	n := 0
	if sel.All {
		q.write("1 = 1")
		n = -1 // Matches are ignored
	}
	for _, m := range sel.Matches {
		if n < 0 {
			break
		}
		if m.Email == "" && m.Parent == nil && len(m.Values) == 0 {
			continue
		}
		if n > 0 {
			q.write(" OR ")
		}
		n++
		if err := q.match(c.Table, m); err != nil {
			return fmt.Errorf("collection %s: %w", c.Key, err)
		}
	}
	if n == 0 {
		q.write("1 = 0")
	}
	q.write(")")
	if sel.Tenant != "" {
		q.write(" AND ", q.col(c.Tenant), " = ").arg(sel.Tenant)
		if q.driver == registry.DriverMySQL { // ci collations would match another tenant's case
			q.write(" AND CAST(", q.col(c.Tenant), " AS BINARY) = CAST(").arg(sel.Tenant).write(" AS BINARY)")
		}
	}
	if o := sel.Older; o != nil {
		q.write(" AND ")
		if err := q.older(c, o.Column, o.Before); err != nil {
			return err
		}
		if o.After != nil {
			q.write(" AND ", q.col(o.Column), " >= ").arg(o.After)
		}
	}
	q.contains(sel.Contains)
	if sel.Through != nil {
		if err := q.compare(c.PrimaryKey, " <= ", *sel.Through); err != nil {
			return fmt.Errorf("collection %s: %w", c.Key, err)
		}
	}
	for _, ex := range sel.Except {
		// IS NOT TRUE, not NOT: a row for which the excepted condition is
		// NULL (no tenant, no reference) is not excepted; NOT would drop it.
		q.write(" AND (")
		if err := q.where(ex); err != nil {
			return err
		}
		q.write(") IS NOT TRUE")
	}
	return nil
}

func (q *query) match(table string, m connector.Match) error {
	if len(m.Where) > 0 {
		q.write("(")
		defer q.conditions(m.Where)
	}
	switch {
	case m.Email != "":
		expr, err := q.fold(table, m.Columns[0])
		if err != nil {
			return err
		}
		q.matchFolded(expr, m.Email)
	case m.Parent != nil:
		q.write(q.col(m.Columns[0]), " IN (SELECT ", q.col(m.ParentColumn), " FROM ", q.ident(m.Parent.Collection.Table), " WHERE ")
		if err := q.where(*m.Parent); err != nil {
			return err
		}
		q.write(")")
	default:
		return q.in(m.Columns, m.Values)
	}
	return nil
}

// conditions closes a match restricted by a reference's conditions:
// " AND col = ? …)". On MySQL the value is also compared as bytes, since a
// case-insensitive collation would take 'User' for 'user'.
func (q *query) conditions(where []registry.Condition) {
	for _, c := range where {
		q.write(" AND ", q.col(c.Column), " = ").arg(c.Value)
		if q.driver == registry.DriverMySQL {
			q.write(" AND CAST(", q.col(c.Column), " AS BINARY) = CAST(").arg(c.Value).write(" AS BINARY)")
		}
	}
	q.write(")")
}

// in writes cols IN (values), with composite keys as row values.
func (q *query) in(cols []string, keys []string) error {
	q.write(q.cols(cols), " IN (")
	for i, key := range keys {
		if i > 0 {
			q.write(", ")
		}
		if err := q.key(cols, key); err != nil {
			return err
		}
	}
	q.write(")")
	return nil
}

// after writes "AND cols > key" for keyset pagination.
func (q *query) after(cols []string, key *string) error {
	if key == nil {
		return nil
	}
	return q.compare(cols, " > ", *key)
}

// compare writes "AND cols op key", a composite key as a row value.
func (q *query) compare(cols []string, op, key string) error {
	q.write(" AND ", q.cols(cols), op)
	return q.key(cols, key)
}

// key writes an encoded key's values as parameters: "?" for one column,
// "(?, ?)" as a row value for a composite key.
func (q *query) key(cols []string, key string) error {
	vals, err := connector.DecodeKey(key, len(cols))
	if err != nil {
		return err
	}
	if len(vals) > 1 {
		q.write("(")
	}
	for i, v := range vals {
		if i > 0 {
			q.write(", ")
		}
		q.arg(v)
	}
	if len(vals) > 1 {
		q.write(")")
	}
	return nil
}

// orderBy returns "a, b" for ORDER BY.
func (q *query) orderBy(cols []string) string {
	quoted := make([]string, len(cols))
	for i, n := range cols {
		quoted[i] = q.col(n)
	}
	return strings.Join(quoted, ", ")
}

// bounded refuses a selection of every row without a cutoff or a tenant:
// no statement that deletes or rewrites may take a whole table.
func bounded(sel connector.Selection) error {
	if sel.All && sel.Older == nil && sel.Tenant == "" {
		return fmt.Errorf("collection %s: a selection of every row needs a cutoff or a tenant", sel.Collection.Key)
	}
	return nil
}
