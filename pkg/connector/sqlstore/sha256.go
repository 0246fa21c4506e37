package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// OpenDSR controllers may name a person by the SHA-256 of their address
// (identity_format sha256). Such a hash is matched by hashing each
// identity column's folded value in the store, as dsr.FoldEmail folds it,
// and comparing hex digests: Postgres with pgcrypto's digest() when the
// extension is installed, else sha256() (11 and later); MariaDB and MySQL
// with SHA2(); SQLite with a function registered here. The store hashes
// every row of the table for each lookup, unless an index serves the
// expression: Postgres's sha256(convert_to(…)) is only STABLE and cannot be
// indexed, pgcrypto's digest(text, text) is IMMUTABLE and can, which is why
// it is preferred. SHA256Expr returns the expression for the operator's
// CREATE INDEX.

// sqliteSHA256 is the SQLite function that returns the lowercase hex
// SHA-256 of its text argument's UTF-8 bytes.
const sqliteSHA256 = "lethe_sha256"

var registerSQLiteSHA256 = sync.OnceValue(func() error {
	return gosqlite.RegisterDeterministicScalarFunction(sqliteSHA256, 1,
		func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			var b []byte
			switch v := args[0].(type) {
			case string:
				b = []byte(v)
			case []byte:
				b = v
			default:
				return nil, nil
			}
			sum := sha256.Sum256(b)
			return hex.EncodeToString(sum[:]), nil
		})
})

// SHA256Expr returns the SQL expression that computes, in this store, the
// hex SHA-256 of column col of table folded as dsr.FoldEmail folds it.
// Errors: those of the column's fold (see FoldAdvice).
func (s *Store) SHA256Expr(table, col string) (string, error) {
	fold, err := s.foldExpr(table, col)
	if err != nil {
		return "", err
	}
	switch s.driver {
	case registry.DriverPostgres:
		if s.hasDigest() {
			return "encode(digest(translate(" + fold + ", 'ς', 'σ'), 'sha256'), 'hex')", nil
		}
		return "encode(sha256(convert_to(translate(" + fold + ", 'ς', 'σ'), 'UTF8')), 'hex')", nil
	case registry.DriverMySQL:
		return "SHA2(REPLACE(" + fold + ", 'ς', 'σ'), 256)", nil
	case registry.DriverSQLite: // registered by Open
		return sqliteSHA256 + "(" + fold + ")", nil
	}
	return "", fmt.Errorf("store %s: no SHA-256 for driver %q", s.name, s.driver)
}

// EmailBySHA256 returns a value of identity column col of collection c
// whose folded form hashes to sum (lowercase hex), or "" when no row's
// does. Errors: EUNAVAILABLE when the store is down; the column's fold
// error.
func (s *Store) EmailBySHA256(ctx context.Context, c *registry.Collection, col, sum string) (string, error) {
	expr, err := s.SHA256Expr(c.Table, col)
	if err != nil {
		return "", err
	}
	q := s.newQuery()
	stmt := "SELECT " + q.col(col) + " FROM " + q.ident(c.Table) + " WHERE " + expr + " = ? LIMIT 1"
	var out []string
	if err := s.db.WithContext(ctx).Raw(stmt, sum).Scan(&out).Error; err != nil {
		return "", s.fail(ctx, "match a hashed identity in", c.Key, err)
	}
	if len(out) == 0 {
		return "", nil
	}
	return out[0], nil
}

// SHA256Resolver finds hashed addresses in every identity column of a
// registry's sql stores; it implements opendsr.Resolver.
type SHA256Resolver struct {
	Registry *registry.Registry
	Stores   Stores
}

// EmailBySHA256 looks in the identity columns in the registry's order
// and returns the first address whose folded form hashes to sum; "" when
// none does.
func (r *SHA256Resolver) EmailBySHA256(ctx context.Context, sum string) (string, error) {
	for _, c := range r.Registry.Order() {
		st := r.Stores[c.Store]
		if st == nil {
			continue
		}
		for _, col := range c.Email {
			email, err := st.EmailBySHA256(ctx, c, col, sum)
			if err != nil {
				return "", err
			}
			if email != "" {
				return email, nil
			}
		}
	}
	return "", nil
}

// hasDigest reports whether a Postgres store has pgcrypto's digest(text,
// text) on its search path; asked once, and again after an error.
func (s *Store) hasDigest() bool {
	switch s.digest.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ok bool
	if err := s.db.WithContext(ctx).Raw(`SELECT to_regprocedure('digest(text,text)') IS NOT NULL`).Row().Scan(&ok); err != nil {
		return false // the statement that follows reports the outage
	}
	if ok {
		s.digest.Store(1)
	} else {
		s.digest.Store(2)
	}
	return ok
}
