package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// An identity column is matched by folding it in the store and comparing
// the result with the address folded by dsr.FoldEmail in Go. The store's
// lower() must therefore agree with Go's in every script: SQLite's folds
// ASCII only, Postgres's follows the collation (ASCII only under "C"), and
// MySQL's does nothing on binary strings. So each column's fold is probed
// once with addresses in German, Turkish, Greek and Cyrillic, and the first
// expression that agrees is used; a column for which none agrees is never
// matched (the request fails naming it) rather than matched wrongly.

// foldProbe holds the letters a fold must get right. Its folding by
// dsr.FoldEmail is what the store must return.
const foldProbe = "ÄÖÜ-ärger-İ-I-ı-ΟΔΥΣΣΕΥΣ-ДМИТРИЙ-ÉÇÅ@EXAMPLE.COM"

// sqliteFold is the function registered with the SQLite driver that folds
// like dsr.FoldEmail. It is deterministic, so indexes on it are allowed.
const sqliteFold = "lethe_fold"

var registerSQLiteFold = sync.OnceValue(func() error {
	return gosqlite.RegisterDeterministicScalarFunction(sqliteFold, 1,
		func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return dsr.FoldEmail(v), nil
			case []byte:
				return dsr.FoldEmail(string(v)), nil
			default: // NULL, numbers: not an address; compared as they are
				return v, nil
			}
		})
})

// fold is how one column is folded: expr with "%s" standing for the quoted
// column, or err when the store cannot fold it as Lethe does.
type fold struct {
	expr string
	err  error
}

// foldCache remembers each column's fold for a store. It is shared by the
// copies of a Store made for transactions and probes through the root
// handle, outside any transaction.
type foldCache struct {
	db    *gorm.DB // the root handle: a failed probe never aborts a transaction
	mu    sync.Mutex
	folds map[string]fold // by table + "\x00" + column
}

// foldExpr returns the SQL that folds column col of table as
// dsr.FoldEmail does. Errors: an EUNPROCESSABLE *dsr.Error naming the
// store, table and column when no fold the store offers agrees, so no
// request is certified on a match that could miss the person.
func (s *Store) foldExpr(table, col string) (string, error) {
	if s.driver == registry.DriverSQLite {
		return sqliteFold + "(" + registry.QuoteColumn(s.driver, col) + ")", nil
	}
	key := table + "\x00" + col
	s.folds.mu.Lock()
	defer s.folds.mu.Unlock()
	f, ok := s.folds.folds[key]
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		root := &Store{name: s.name, driver: s.driver, db: s.folds.db, folds: s.folds}
		f = root.probeFold(ctx, table, col)
		if f.err != nil && dsr.ErrorCode(f.err) != dsr.EUNPROCESSABLE {
			return "", f.err // an outage or a timeout is not remembered
		}
		s.folds.folds[key] = f
	}
	if f.err != nil {
		return "", f.err
	}
	return strings.Replace(f.expr, "%s", registry.QuoteColumn(s.driver, col), 1), nil
}

// probeFold tries the column's own collation, then the store's Unicode
// collations, and keeps the first whose lower() folds foldProbe exactly as
// dsr.FoldEmail does.
func (s *Store) probeFold(ctx context.Context, table, col string) fold {
	own, plain, candidates, err := s.collations(ctx, table, col)
	if err != nil {
		if perr := s.Ping(ctx); perr != nil {
			return fold{err: perr}
		}
		return fold{err: fmt.Errorf("store %s: read the collation of %s.%s: %w", s.name, table, col, err)}
	}
	type try struct{ expr, probe string }
	var tries []try
	switch s.driver {
	case registry.DriverPostgres:
		if plain { // the column's own collation: its expression indexes apply
			p := "lower(CAST(? AS text))"
			if own != "" {
				p = "lower(CAST(? AS text) COLLATE " + registry.QuoteColumn(s.driver, own) + ")"
			}
			tries = append(tries, try{"lower(%s)", p})
		}
		for _, c := range candidates {
			e := "lower(CAST(%s AS text) COLLATE " + registry.QuoteColumn(s.driver, c) + ")"
			tries = append(tries, try{e, strings.Replace(e, "%s", "?", 1)})
		}
	case registry.DriverMySQL:
		if plain {
			tries = append(tries, try{"lower(%s)", "lower(CONVERT(? USING utf8mb4) COLLATE " + own + ")"})
		}
		for _, c := range candidates {
			e := "lower(CONVERT(%s USING utf8mb4) COLLATE " + c + ")"
			tries = append(tries, try{e, strings.Replace(e, "%s", "?", 1)})
		}
	}
	want := dsr.FoldEmail(foldProbe)
	for _, t := range tries {
		var got string
		if err := s.db.WithContext(ctx).Raw("SELECT "+t.probe, foldProbe).Row().Scan(&got); err != nil {
			continue // a collation the server lists but cannot use here
		}
		if got == want {
			return fold{expr: t.expr}
		}
	}
	return fold{err: dsr.Errorf(dsr.EUNPROCESSABLE,
		"store %s: column %s of table %s cannot be matched exactly: the database folds letters outside ASCII differently from Lethe and offers no Unicode collation that agrees; give the column a Unicode collation (Postgres: a UTF-8 libc collation such as \"C.utf8\"; MariaDB: utf8mb4_unicode_ci)",
		s.name, col, table)}
}

// collations returns the column's own collation ("" for the database's
// default), whether lower(col) may be tried as it is (not under "C", not on
// a binary string), and the Unicode collations the store offers, best first.
func (s *Store) collations(ctx context.Context, table, col string) (own string, plain bool, candidates []string, err error) {
	schema, name := splitTable(table)
	var explicit, dflt *string
	switch s.driver {
	case registry.DriverPostgres:
		err = s.db.WithContext(ctx).Raw(`SELECT collation_name,
				(SELECT datcollate FROM pg_database WHERE datname = current_database())
			FROM information_schema.columns
			WHERE table_schema = COALESCE(?, current_schema()) AND table_name = ? AND column_name = ?`,
			schema, name, col).Row().Scan(&explicit, &dflt)
		if err != nil {
			return "", false, nil, err
		}
		effective := ""
		if explicit != nil {
			own, effective = *explicit, *explicit
		} else if dflt != nil {
			effective = *dflt
		}
		plain = effective != "C" && effective != "POSIX"
		candidates, err = s.strings(ctx, `SELECT collname FROM pg_collation
			WHERE collencoding IN (-1, (SELECT encoding FROM pg_database WHERE datname = current_database()))
			  AND (collctype ILIKE '%utf%8' OR collprovider = 'i')
			ORDER BY collname IN ('C.utf8', 'C.UTF-8') DESC, collprovider = 'c' DESC, collname = 'und-x-icu' DESC, collname
			LIMIT 8`)
	case registry.DriverMySQL:
		err = s.db.WithContext(ctx).Raw(`SELECT COLLATION_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ?`,
			schema, name, col).Row().Scan(&explicit)
		if err != nil {
			return "", false, nil, err
		}
		if explicit != nil {
			own = *explicit
		}
		plain = strings.HasPrefix(own, "utf8mb4_") // binary strings have none
		candidates, err = s.strings(ctx, `SELECT COLLATION_NAME FROM information_schema.COLLATIONS
			WHERE COLLATION_NAME IN ('utf8mb4_uca1400_ai_ci', 'utf8mb4_0900_ai_ci', 'utf8mb4_unicode_520_ci', 'utf8mb4_unicode_ci', 'utf8mb4_general_ci')
			ORDER BY FIELD(COLLATION_NAME, 'utf8mb4_uca1400_ai_ci', 'utf8mb4_0900_ai_ci', 'utf8mb4_unicode_520_ci', 'utf8mb4_unicode_ci', 'utf8mb4_general_ci')`)
	}
	return own, plain, candidates, err
}

// FoldAdvice tells whether the identity column col of table is matched
// with the store's plain lower(col), which an expression index can serve,
// and else the expression Lethe uses (for the CREATE INDEX to suggest).
// Errors: the EUNPROCESSABLE error of a column no fold agrees with.
func (s *Store) FoldAdvice(table, col string) (plain bool, expr string, err error) {
	expr, err = s.foldExpr(table, col)
	if err != nil {
		return false, "", err
	}
	return expr == "lower("+registry.QuoteColumn(s.driver, col)+")", expr, nil
}

// maxSigmaVariants bounds the IN list of matchFolded; an address with more
// final-sigma positions is compared through a translated expression, which
// no index serves but which is as exact.
const maxSigmaVariants = 64

// sigmaVariants returns the lower-case spellings a store may hold for the
// folded address: dsr.FoldEmail maps ς to σ, which lower() does not, so
// each σ may be stored as either. Nil when there are too many.
func sigmaVariants(folded string) []string {
	out := []string{""}
	for _, r := range folded {
		n := len(out)
		for i := range n {
			if r == 'σ' {
				out = append(out, out[i]+"ς")
			}
			out[i] += string(r)
		}
		if len(out) > maxSigmaVariants {
			return nil
		}
	}
	return out
}

// matchFolded writes the condition that the identity column, folded by
// expr, equals email folded by dsr.FoldEmail. On MySQL the bytes are
// compared: accent- or pad-insensitive collations cannot widen the match.
func (q *query) matchFolded(expr, email string) {
	folded := dsr.FoldEmail(email)
	bin := func(s string) string {
		if q.driver == registry.DriverMySQL {
			return "CAST(" + s + " AS BINARY)"
		}
		return s
	}
	if q.driver == registry.DriverSQLite { // lethe_fold is FoldEmail itself
		q.write(expr, " = ").arg(folded)
		return
	}
	variants := sigmaVariants(folded)
	if variants == nil {
		if q.driver == registry.DriverMySQL {
			expr = "REPLACE(" + expr + ", 'ς', 'σ')"
		} else {
			expr = "translate(" + expr + ", 'ς', 'σ')"
		}
		variants = []string{folded}
	}
	q.write(bin(expr), " IN (")
	for i, v := range variants {
		if i > 0 {
			q.write(", ")
		}
		q.write(bin("?"))
		q.args = append(q.args, v)
	}
	q.write(")")
}
