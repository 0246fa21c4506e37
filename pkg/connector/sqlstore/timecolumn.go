package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Types returns the type of each column of table, lower case: Postgres'
// information_schema data_type, MySQL's DATA_TYPE, SQLite's declared type.
func (s *Store) Types(ctx context.Context, table string) (map[string]string, error) {
	schema, name := splitTable(table)
	var query string
	var args []any
	switch s.driver {
	case registry.DriverPostgres:
		query = `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = COALESCE(?, current_schema()) AND table_name = ?`
		args = []any{schema, name}
	case registry.DriverMySQL:
		query = `SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`
		args = []any{schema, name}
	default:
		query, args = `SELECT name, type FROM pragma_table_info(?)`, []any{table}
	}
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, s.fail(ctx, "read the column types of", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return nil, fmt.Errorf("read the column types of %s: %w", table, err)
		}
		out[col] = strings.ToLower(typ)
	}
	return out, rows.Err()
}

// timeColumn is how a cut-off column stores time.
type timeColumn struct {
	kind registry.TimeKind
	unit string
}

// timeColumn reads how column col of c's table stores time, with the unit
// the registry declares for c's retention timestamp. A column Lethe cannot
// date is refused (registry.TimeStorage): no sweep or dry run compares a
// cut-off with a column it might misread. Answers are cached per table,
// column and unit.
func (s *Store) timeColumn(ctx context.Context, c *registry.Collection, col string) (timeColumn, error) {
	unit := ""
	if c.Retention != nil && c.Retention.Timestamp == col {
		unit = c.Retention.Unit
	}
	cacheKey := c.Table + keySep + col + keySep + unit
	if v, ok := s.times.Load(cacheKey); ok {
		return v.(timeColumn), nil
	}
	types, err := s.Types(ctx, c.Table)
	if err != nil {
		return timeColumn{}, err
	}
	typ, ok := types[col]
	if !ok {
		return timeColumn{}, fmt.Errorf("collection %s: the cut-off column %q does not exist in table %q", c.Key, col, c.Table)
	}
	kind, err := registry.TimeStorage(s.driver, typ, unit)
	if err != nil {
		return timeColumn{}, fmt.Errorf("collection %s: refusing the cut-off on column %q: %w", c.Key, col, err)
	}
	tc := timeColumn{kind: kind, unit: unit}
	s.times.Store(cacheKey, tc)
	return tc, nil
}

// resolveTimes reads, into q, how the cut-off columns of sel (and of the
// selections inside it) store time, before q.where writes their conditions.
func (s *Store) resolveTimes(ctx context.Context, q *query, sel connector.Selection) error {
	if o := sel.Older; o != nil {
		tc, err := s.timeColumn(ctx, sel.Collection, o.Column)
		if err != nil {
			return err
		}
		if q.times == nil {
			q.times = map[string]timeColumn{}
		}
		q.times[sel.Collection.Table+keySep+o.Column] = tc
	}
	for _, ex := range sel.Except {
		if err := s.resolveTimes(ctx, q, ex); err != nil {
			return err
		}
	}
	for _, m := range sel.Matches {
		if m.Parent != nil {
			if err := s.resolveTimes(ctx, q, *m.Parent); err != nil {
				return err
			}
		}
	}
	return nil
}

// selecting returns a new query ready to write sel's condition.
func (s *Store) selecting(ctx context.Context, sel connector.Selection) (*query, error) {
	q := s.newQuery()
	return q, s.resolveTimes(ctx, q, sel)
}

// older writes "col < cut-off" as the column stores time: a date/time or
// epoch column is compared as it is (an index on it serves), ISO-8601 text
// (and on SQLite a date/time column, which may hold anything) is parsed by
// the database first, offsets applied and text without one read as UTC. Text the database cannot parse fails the statement on
// Postgres and MySQL and is never older on SQLite: no row is taken on a
// misreading.
func (q *query) older(c *registry.Collection, col string, before time.Time) error {
	tc, ok := q.times[c.Table+keySep+col]
	if !ok {
		return fmt.Errorf("collection %s: how column %q stores time was not read", c.Key, col)
	}
	v := registry.CutoffValue(tc.kind, tc.unit, before)
	qc := q.col(col)
	if q.driver == registry.DriverSQLite && tc.kind == registry.TimeNative {
		// SQLite keeps any value in a DATETIME column: compared as written,
		// an integer would sort before every date and look expired.
		// julianday reads the ISO-8601 forms and answers NULL (never
		// older) for what it cannot read.
		tc.kind, v = registry.TimeText, registry.CutoffValue(registry.TimeText, "", before)
	}
	if tc.kind != registry.TimeText {
		q.write(qc, " < ").arg(v)
		return nil
	}
	switch q.driver {
	case registry.DriverPostgres:
		// A time of day followed by a zone: the text says its offset.
		q.write("(CASE WHEN ", qc, " ~ ").arg(`[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? *([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$`).
			write(" THEN CAST(", qc, " AS timestamptz) ELSE CAST(", qc, " AS timestamp) AT TIME ZONE 'UTC' END) < CAST(").
			arg(v).write(" AS timestamptz)")
	case registry.DriverMySQL:
		q.write("(CASE WHEN ", qc, " REGEXP '[+-][0-9]{2}:[0-9]{2}$' THEN CONVERT_TZ(CAST(REPLACE(LEFT(", qc, ", CHAR_LENGTH(", qc,
			") - 6), 'T', ' ') AS DATETIME(6)), RIGHT(", qc, ", 6), '+00:00') ELSE CAST(REPLACE(TRIM(TRAILING 'Z' FROM ", qc,
			"), 'T', ' ') AS DATETIME(6)) END) < ").arg(before.UTC())
	default:
		q.write("julianday(", qc, ") < julianday(").arg(v).write(")")
	}
	return nil
}

// Sample returns up to limit non-NULL values of column in table, as the
// driver returns them ([]byte as string), for CheckLive to check an epoch
// column's unit.
func (s *Store) Sample(ctx context.Context, table, column string, limit int) ([]any, error) {
	q := s.newQuery()
	q.write("SELECT ", q.col(column), " FROM ", q.ident(table), " WHERE ", q.col(column), " IS NOT NULL LIMIT ", strconv.Itoa(limit))
	rows, err := s.db.WithContext(ctx).Raw(q.sql.String()).Rows()
	if err != nil {
		return nil, s.fail(ctx, "sample", table, err)
	}
	got, err := scanAny(rows, 1)
	if err != nil {
		return nil, s.fail(ctx, "sample", table, err)
	}
	out := make([]any, len(got))
	for i, r := range got {
		out[i] = r[0]
	}
	return out, nil
}
