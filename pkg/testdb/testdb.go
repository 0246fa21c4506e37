// Package testdb gives each test its own database on the real servers the
// machine runs: a fresh Postgres schema, a fresh MariaDB database or a SQLite
// file, dropped when the test ends. A server that cannot be reached fails the
// test loudly; nothing is ever skipped or mocked.
package testdb

import (
	"cmp"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresURL is the server tests use: LETHE_TEST_POSTGRES_URL or the local default.
func PostgresURL() string {
	return cmp.Or(os.Getenv("LETHE_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// MySQLDSN is the server tests use: LETHE_TEST_MYSQL_DSN or the local default.
func MySQLDSN() string {
	return cmp.Or(os.Getenv("LETHE_TEST_MYSQL_DSN"), "root@tcp(127.0.0.1:3306)/test?parseTime=true&multiStatements=true")
}

// RedisAddr is the server tests use: LETHE_TEST_REDIS_ADDR or the local default.
func RedisAddr() string {
	return cmp.Or(os.Getenv("LETHE_TEST_REDIS_ADDR"), "127.0.0.1:6379")
}

func name(prefix string) string {
	return prefix + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
}

// Postgres creates a schema of its own for t and returns a URL whose
// search_path points at it. The schema is dropped with everything in it when
// t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	schema := scratch(t, "pgx", PostgresURL(), "postgres", "schema", " CASCADE")
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("testdb: LETHE_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresDatabase creates a database of its own for t on the Postgres
// server and returns its URL, with no search_path: what pg_dump and
// pg_restore take as it is. The database is dropped, its connections
// closed, when t ends.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	db := scratch(t, "pgx", PostgresURL(), "postgres", "database", " WITH (FORCE)")
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("testdb: LETHE_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

// MySQL creates a database of its own for t on MariaDB/MySQL and returns its
// DSN. The database is dropped when t ends.
func MySQL(t testing.TB) string {
	t.Helper()
	db := scratch(t, "mysql", MySQLDSN(), "mariadb", "database", "")
	dsn := MySQLDSN()
	slash := strings.LastIndex(dsn, "/")
	rest := ""
	if q := strings.IndexByte(dsn[slash:], '?'); q >= 0 {
		rest = dsn[slash+q:]
	}
	return dsn[:slash+1] + db + rest
}

// scratch creates a fresh kind ("schema" or "database") on the server at
// dsn, through driver, and returns its name; it is dropped (DROP … drop,
// e.g. " CASCADE") when t ends. server names the server when it cannot be
// reached.
func scratch(t testing.TB, driver, dsn, server, kind, drop string) string {
	t.Helper()
	admin, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("testdb: %s: %v", server, err)
	}
	defer admin.Close()
	n := name("t_")
	if _, err := admin.Exec("CREATE " + strings.ToUpper(kind) + " " + n); err != nil {
		t.Fatalf("testdb: %s at %s is not reachable (start it; see .ci/run): %v", server, redact(dsn), err)
	}
	t.Cleanup(func() {
		a, err := sql.Open(driver, dsn)
		if err == nil {
			defer a.Close()
			_, err = a.Exec("DROP " + strings.ToUpper(kind) + " " + n + drop)
		}
		if err != nil {
			t.Errorf("testdb: drop %s %s: %v", kind, n, err)
		}
	})
	return n
}

// SQLite returns the path of a fresh SQLite file in t's temporary folder.
func SQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), fmt.Sprintf("%s.db", name("t_")))
}

// redact drops a password from a URL or DSN before it is printed.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		if colon := strings.IndexByte(s[:at], ':'); colon >= 0 {
			return s[:colon] + ":***" + s[at:]
		}
	}
	return s
}
