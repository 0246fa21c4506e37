package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

var (
	_ connector.TemplateRunner = (*Store)(nil)
	_ registry.TemplateChecker = (*Store)(nil)
)

// bind returns t's statement with the driver's placeholders and its
// arguments from b: on Postgres one $n per distinct parameter (so that
// ":tenant IS NULL OR studio_id = :tenant" infers one type), elsewhere one
// ? per occurrence.
func (s *Store) bind(t *registry.Template, b connector.Binding) (string, []any) {
	var args []any
	if s.driver != registry.DriverPostgres {
		for _, name := range t.Params {
			args = append(args, b[name])
		}
		return t.Bind(func(int) string { return "?" }), args
	}
	index := map[string]int{}
	return t.Bind(func(i int) string {
		name := t.Params[i]
		if _, ok := index[name]; !ok {
			args = append(args, b[name])
			index[name] = len(args)
		}
		return "$" + strconv.Itoa(index[name])
	}), args
}

// sqlDB returns the store's database/sql handle: templates bypass gorm,
// which would read a '?' inside the application's SQL as its own.
func (s *Store) sqlDB() (*sql.DB, error) { return s.db.DB() }

// QueryTemplate implements connector.TemplateRunner.
func (s *Store) QueryTemplate(ctx context.Context, c *registry.Collection, t *registry.Template, b connector.Binding, fn func(columns []string, values []any) error) error {
	db, err := s.sqlDB()
	if err != nil {
		return err
	}
	q, args := s.bind(t, b)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return s.fail(ctx, "run "+t.Path+" of", c.Key, err)
	}
	return s.streamRows(ctx, rows, "run "+t.Path+" of", c.Key, fn)
}

// ExecTemplates implements connector.TemplateRunner.
func (s *Store) ExecTemplates(ctx context.Context, c *registry.Collection, stmts []connector.Statement) (int64, error) {
	db, err := s.sqlDB()
	if err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail(ctx, "erase", c.Key, err)
	}
	defer tx.Rollback()
	var n int64
	for _, st := range stmts {
		t := st.Template
		for _, b := range st.Bindings {
			q, args := s.bind(t, b)
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, s.fail(ctx, "run "+t.Path+" of", c.Key, err)
			}
			if k, err := res.RowsAffected(); err == nil && k > 0 {
				n += k
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail(ctx, "erase", c.Key, err)
	}
	return n, nil
}

// CheckTemplate implements registry.TemplateChecker: it prepares t on the
// live database, which parses it and resolves its tables and columns
// without running it. The error is the database's reason.
func (s *Store) CheckTemplate(ctx context.Context, t *registry.Template) error {
	db, err := s.sqlDB()
	if err != nil {
		return err
	}
	if err := s.Ping(ctx); err != nil {
		return err
	}
	q, _ := s.bind(t, connector.Binding{})
	stmt, err := db.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	return stmt.Close()
}
