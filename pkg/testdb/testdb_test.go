package testdb_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// TestScratchIsDropped: the Postgres schema and the MariaDB database a
// test is given exist while it runs and are gone once it ends.
func TestScratchIsDropped(t *testing.T) {
	var schema, database string
	t.Run("use", func(t *testing.T) {
		u, err := url.Parse(testdb.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		dsn := testdb.MySQL(t)
		database = dsn[strings.LastIndex(dsn, "/")+1:]
		database, _, _ = strings.Cut(database, "?")
		if n := count(t, "pgx", testdb.PostgresURL(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema); n != 1 {
			t.Errorf("schema %s: %d while the test runs, want 1", schema, n)
		}
		if n := count(t, "mysql", testdb.MySQLDSN(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?`, database); n != 1 {
			t.Errorf("database %s: %d while the test runs, want 1", database, n)
		}
	})
	if n := count(t, "pgx", testdb.PostgresURL(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema); n != 0 {
		t.Errorf("schema %s is left after the test", schema)
	}
	if n := count(t, "mysql", testdb.MySQLDSN(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?`, database); n != 0 {
		t.Errorf("database %s is left after the test", database)
	}
}

func count(t *testing.T, driver, dsn, query, arg string) int {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, arg).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
