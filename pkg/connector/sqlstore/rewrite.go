package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

var (
	_ retention.Store       = (*Store)(nil)
	_ retention.ColumnTyper = (*Store)(nil)
)

// Rewrite implements retention.Store for the redact action: in one
// transaction it reads a batch with each row's tenant,
//
//	SELECT pk, (SELECT r1.studio_id FROM chats AS r1 WHERE r1.id = r0.chat_id LIMIT 1), cols
//	FROM messages AS r0 WHERE … AND pk > ? ORDER BY pk LIMIT n FOR UPDATE
//
// (no FOR UPDATE on SQLite, which has one writer), and updates by primary
// key only the rows whose text rw.Edit changed, only the columns it
// changed. Columns whose SQL type is not text are neither read nor written
// (see NonTextColumns). Errors: as Purge's.
func (s *Store) Rewrite(ctx context.Context, sel connector.Selection, rw retention.Rewrite, after *string, limit int) (int64, int64, string, error) {
	c := sel.Collection
	if err := bounded(sel); err != nil {
		return 0, 0, "", err
	}
	skip, err := s.NonTextColumns(ctx, c.Table, rw.Columns)
	if err != nil {
		return 0, 0, "", s.fail(ctx, "redact", c.Key, err)
	}
	if len(skip) > 0 {
		var keep []string
		for _, col := range rw.Columns {
			if _, ok := skip[col]; !ok {
				keep = append(keep, col)
			}
		}
		rw.Columns = keep
	}
	if err := s.checkKey(ctx, c); err != nil {
		return 0, 0, "", err
	}
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return 0, 0, "", err
	}
	const self = "lethe_r0"
	q.write("SELECT ", q.orderBy(c.PrimaryKey), ", ")
	hasTenant := c.Tenant != "" || len(rw.TenantPath) > 0
	switch {
	case c.Tenant != "":
		q.write(self, ".", q.col(c.Tenant))
	case len(rw.TenantPath) > 0:
		q.write(s.tenantExpr(q, self, rw.TenantPath, 1))
	default:
		q.write("NULL")
	}
	for _, col := range rw.Columns {
		q.write(", ", q.col(col))
	}
	q.write(" FROM ", q.ident(c.Table), " AS ", self, " WHERE ")
	if err := q.where(sel); err != nil {
		return 0, 0, "", err
	}
	if err := q.after(c.PrimaryKey, after); err != nil {
		return 0, 0, "", err
	}
	q.write(" ORDER BY ", q.orderBy(c.PrimaryKey), " LIMIT ", strconv.Itoa(limit))
	if s.driver != registry.DriverSQLite && !rw.DryRun {
		q.write(" FOR UPDATE")
	}
	var read, changed int64
	var last string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		txs := &Store{name: s.name, driver: s.driver, db: tx, folds: s.folds}
		rows, err := txs.scan(ctx, q, len(c.PrimaryKey), 1+len(rw.Columns))
		if err != nil || len(rows) == 0 {
			return err
		}
		read, last = int64(len(rows)), rows[len(rows)-1].Key
		for _, r := range rows {
			tenant := ""
			if hasTenant && r.Values[0] != nil {
				tenant = *r.Values[0]
			}
			var cols []string
			var vals []*string
			for i, col := range rw.Columns {
				old := r.Values[1+i]
				if old == nil {
					continue
				}
				out, ok, err := rw.Edit(tenant, col, *old)
				if err != nil {
					return err
				}
				if ok && out != *old {
					cols, vals = append(cols, col), append(vals, &out)
				}
			}
			if len(cols) == 0 {
				continue
			}
			changed++
			if rw.DryRun {
				continue
			}
			if err := txs.update(c, nil, cols, vals, []string{r.Key}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, "", s.fail(ctx, "redact", c.Key, err)
	}
	return read, changed, last, nil
}

// tenantExpr is the scalar sub-select that finds, from the row aliased
// outer, its tenant through path: one nested sub-select per hop.
func (s *Store) tenantExpr(q *query, outer string, path []retention.TenantHop, depth int) string {
	hop := path[0]
	alias := "lethe_r" + strconv.Itoa(depth)
	var value string
	if len(path) == 1 {
		value = alias + "." + q.col(hop.Parent.Tenant)
	} else {
		value = s.tenantExpr(q, alias, path[1:], depth+1)
	}
	expr := "(SELECT " + value + " FROM " + q.ident(hop.Parent.Table) + " AS " + alias +
		" WHERE " + alias + "." + q.col(hop.ParentColumn) + " = " + outer + "." + q.col(hop.Column)
	// The conditions' placeholders come after the inner hops' in the text,
	// as their values come after theirs in q.args.
	for _, c := range hop.Where {
		expr += " AND " + outer + "." + q.col(c.Column) + " = ?"
		q.args = append(q.args, c.Value)
		if q.driver == registry.DriverMySQL {
			expr += " AND CAST(" + outer + "." + q.col(c.Column) + " AS BINARY) = CAST(? AS BINARY)"
			q.args = append(q.args, c.Value)
		}
	}
	return expr + " LIMIT 1)"
}

// columnTypes caches, per database handle and table, the SQL type name of
// each column (lower-cased name → upper-cased type), read once by
// NonTextColumns. A column's type changed later is seen after a restart.
var columnTypes sync.Map // columnTypesKey → map[string]string

type columnTypesKey struct {
	db    *gorm.DB
	table string
}

// NonTextColumns implements retention.ColumnTyper: it returns those of cols
// whose SQL type in table is not text, by column with its type. The types
// come from "SELECT * FROM table LIMIT 0" (the driver's column types),
// cached per table. Text is any type naming CHAR, TEXT, CLOB, STRING or
// JSON (VARCHAR, BPCHAR, MEDIUMTEXT, JSONB…) and Postgres's NAME; arrays,
// numbers, dates, inet, uuid, enums and binary types are not. A column of
// no declared type (SQLite) or missing from the table is not reported.
func (s *Store) NonTextColumns(ctx context.Context, table string, cols []string) (map[string]string, error) {
	key := columnTypesKey{db: s.db, table: table}
	v, ok := columnTypes.Load(key)
	if !ok {
		q := s.newQuery()
		rows, err := s.db.WithContext(ctx).Raw("SELECT * FROM " + q.ident(table) + " LIMIT 0").Rows()
		if err != nil {
			return nil, err
		}
		cts, err := rows.ColumnTypes()
		rows.Close()
		if err != nil {
			return nil, err
		}
		types := make(map[string]string, len(cts))
		for _, ct := range cts {
			types[strings.ToLower(ct.Name())] = strings.ToUpper(ct.DatabaseTypeName())
		}
		v, _ = columnTypes.LoadOrStore(key, types)
	}
	types := v.(map[string]string)
	var out map[string]string
	for _, col := range cols {
		typ, ok := types[strings.ToLower(col)]
		if !ok || isTextType(typ) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[col] = typ
	}
	return out, nil
}

// isTextType reports whether a driver's type name holds text the redact
// action may rewrite; "" (unknown) counts as text.
func isTextType(typ string) bool {
	if typ == "" || typ == "NAME" {
		return true
	}
	if strings.HasPrefix(typ, "_") || strings.HasPrefix(typ, "[]") || strings.HasSuffix(typ, "[]") {
		return false // arrays
	}
	for _, t := range []string{"CHAR", "TEXT", "CLOB", "STRING", "JSON"} {
		if strings.Contains(typ, t) {
			return true
		}
	}
	return false
}
