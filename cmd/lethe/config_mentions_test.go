package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestConfigCheckMentionCost: config check says what a scan for mentions
// reads and which index makes it cheap, then that the index serves it.
func TestConfigCheckMentionCost(t *testing.T) {
	for _, d := range testkit.Drivers {
		t.Run(d, func(t *testing.T) {
			dsn := testkit.DSN(t, d)
			s, err := sqlstore.Open("app", d, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			testkit.Exec(t, s, `CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255))`)
			testkit.Exec(t, s, `CREATE TABLE notes (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body TEXT)`)
			for i, body := range []string{"hello", "Ada Lovelace wrote", "héllo wörld"} {
				testkit.Exec(t, s, `INSERT INTO notes (id, user_id, body) VALUES (?, ?, ?)`, i+1, 1, body)
			}
			path := filepath.Join(t.TempDir(), "lethe.yaml")
			reg := fmt.Sprintf(`stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    categories: {name: user.name}
    erasure: delete
  app.notes:
    references: {user_id: users.id}
    mentions: [body]
    erasure: delete
`, d)
			if err := os.WriteFile(path, []byte(reg), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"APP_DSN": dsn}
			out, errOut, code := runCLI(t, env, "config", "check", "--config", path)
			line := "collections.app.notes.mentions: an erasure's scan reads 3 rows, 36 bytes of body; "
			advice := map[string]string{
				registry.DriverPostgres: `an index makes it read only the rows that may mention a person known by an e-mail address alone: CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX "notes_body_mentions" ON "notes" USING gin ("body" gin_trgm_ops)`,
				registry.DriverMySQL:    "an index makes it read only the rows that may mention a person known by an e-mail address alone: ALTER TABLE `notes` ADD FULLTEXT INDEX `notes_body_mentions` (`body`)",
				registry.DriverSQLite:   "SQLite has no index for a search inside text: every row is read",
			}[d]
			if code != 0 || !strings.Contains(out, line+advice+"\n") {
				t.Fatalf("config check (%d):\n%s%s\nwant the line %q", code, out, errOut, line+advice)
			}
			switch d {
			case registry.DriverPostgres:
				testkit.Exec(t, s, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
				testkit.Exec(t, s, `CREATE INDEX notes_body_mentions ON notes USING gin (body public.gin_trgm_ops)`)
			case registry.DriverMySQL:
				testkit.Exec(t, s, "ALTER TABLE notes ADD FULLTEXT INDEX notes_body_mentions (body)")
			default:
				return
			}
			out, _, _ = runCLI(t, env, "config", "check", "--config", path)
			if kind := map[string]string{registry.DriverPostgres: "pg_trgm", registry.DriverMySQL: "fulltext"}[d]; !strings.Contains(out, line+"the "+kind+" index on body selects the rows to read for a person known by an e-mail address alone (a name or phone number is looked for in every row)\n") {
				t.Errorf("config check with the index:\n%s", out)
			}
		})
	}
}
