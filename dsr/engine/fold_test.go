package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const foldRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.people:
    identity: {email: email}
    erasure: delete
  app.optins:
    primary_key: email
    identity: {email: email}
    erasure: delete
`

// foldPeople holds, by id, addresses in German, Turkish, Greek and
// Cyrillic, and decoys that a fold too wide (accent- or dot-insensitive)
// would take for them.
var foldPeople = map[int64]string{
	1: "ÄRGER@example.com",
	2: "arger@example.com", // decoy: ä is not a
	3: "İLKER@example.com",
	4: "ılker@example.com", // decoy: dotless ı is not i
	5: "Οδυσσεύς@example.gr",
	6: "οδυσσευς@example.gr", // decoy: ύ is not υ
	7: "ДМИТРИЙ@example.ru",
	8: "дмитрии@example.ru", // decoy: й is not и
}

func TestErasureFoldsEveryScript(t *testing.T) {
	cases := []struct {
		name, driver, emailType string
	}{
		{"postgres", registry.DriverPostgres, "VARCHAR(255)"},
		{"postgres collate C", registry.DriverPostgres, `VARCHAR(255) COLLATE "C"`},
		{"mariadb", registry.DriverMySQL, "VARCHAR(255)"},
		{"mariadb binary", registry.DriverMySQL, "VARBINARY(255)"},
		{"sqlite", registry.DriverSQLite, "VARCHAR(255)"},
	}
	requests := []struct {
		email  string
		erases []int64
	}{
		{"ärger@EXAMPLE.com", []int64{1}},
		{"ilker@example.com", []int64{3}},
		{"ΟΔΥΣΣΕΎΣ@example.gr", []int64{5}},
		{"дмитрий@example.ru", []int64{7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := testkit.OpenStore(t, "app", tc.driver, []string{
				fmt.Sprintf(`CREATE TABLE people (id BIGINT PRIMARY KEY, email %s NOT NULL)`, tc.emailType),
				fmt.Sprintf(`CREATE TABLE optins (email %s PRIMARY KEY)`, tc.emailType),
			}...)
			for id, email := range foldPeople {
				testkit.Exec(t, app, `INSERT INTO people (id, email) VALUES (?, ?)`, id, email)
				if id%2 == 1 { // a ci collation's primary key would take a decoy for its address
					testkit.Exec(t, app, `INSERT INTO optins (email) VALUES (?)`, email)
				}
			}
			eng := foldEngine(t, tc.driver, app)
			gone := map[int64]bool{}
			for _, r := range requests {
				out, err := eng.Execute(context.Background(), erasure(r.email, ""), newJournal())
				if err != nil {
					t.Fatalf("erase %s: %v", r.email, err)
				}
				if !out.Verification.Passed || out.Counts["app.people"] != 1 || out.Counts["app.optins"] != 1 {
					t.Errorf("erase %s: counts %v, verification %+v; want one row in each table", r.email, out.Counts, out.Verification)
				}
				for _, id := range r.erases {
					gone[id] = true
				}
			}
			for _, table := range []string{"people", "optins"} {
				var left []string
				for _, row := range dumpRows(t, app, "SELECT email FROM "+table) {
					left = append(left, row[0])
				}
				for id, email := range foldPeople {
					if table == "optins" && id%2 == 0 {
						continue
					}
					q := fmt.Sprintf("%q", email)
					if slices.Contains(left, q) == gone[id] {
						t.Errorf("%s: %s erased=%v, want %v", table, email, !gone[id], gone[id])
					}
				}
			}
		})
	}
}

// TestErasureRefusesAStoreThatCannotFold: a Postgres database in SQL_ASCII
// has no collation that lower-cases Ä; the erasure fails naming the column
// rather than finding nothing and certifying.
func TestErasureRefusesAStoreThatCannotFold(t *testing.T) {
	admin, err := sql.Open("pgx", testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "lethe_ascii_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := admin.Exec("CREATE DATABASE " + name + " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, _ := url.Parse(testdb.PostgresURL())
	u.Path = "/" + name
	app, err := sqlstore.Open("app", registry.DriverPostgres, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	testkit.Exec(t, app, `CREATE TABLE people (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`)
	testkit.Exec(t, app, `CREATE TABLE optins (email VARCHAR(255) PRIMARY KEY)`)
	testkit.Exec(t, app, `INSERT INTO people (id, email) VALUES (1, 'ÄRGER@example.com')`)
	out, err := foldEngine(t, registry.DriverPostgres, app).Execute(context.Background(), erasure("ärger@example.com", ""), newJournal())
	if err == nil {
		t.Fatalf("erasure on a store that cannot fold: %+v, want an error", out)
	}
	if msg := err.Error(); !strings.Contains(msg, "column email of table") || !strings.Contains(msg, "cannot be matched exactly") || strings.Contains(msg, "rger") {
		t.Errorf("error = %q, want it to name the column and not the address", msg)
	}
	if rows := dumpRows(t, app, "SELECT id FROM people"); len(rows) != 1 {
		t.Errorf("people left: %v", rows)
	}
}

func foldEngine(t *testing.T, driver string, app *sqlstore.Store) *engine.Engine {
	t.Helper()
	reg := testkit.Registry(t, foldRegistry, driver)
	return engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
}
