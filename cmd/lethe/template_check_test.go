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

// templateCheckRegistry has one collection reached by SQL templates; each
// case below breaks its erase statement.
const templateCheckRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.attachments:
    access: SELECT id, name FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    count: SELECT count(*) FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    verify: SELECT id FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    erase: ["%s"]
`

// TestConfigCheckRefusesTemplates: lethe config check passes a sound
// template and refuses, naming the template's path and the reason, one
// built by interpolation, one with two statements and one over a table
// the live database does not have, on Postgres and MariaDB.
func TestConfigCheckRefusesTemplates(t *testing.T) {
	for _, driver := range []string{registry.DriverPostgres, registry.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			env := map[string]string{"APP_DSN": testkit.DSN(t, driver)}
			s, err := sqlstore.Open("app", driver, env["APP_DSN"])
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, ddl := range []string{
				`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
				`CREATE TABLE attachments (id BIGINT PRIMARY KEY, owner_type VARCHAR(16) NOT NULL, owner_id BIGINT NOT NULL, name VARCHAR(255))`,
			} {
				if err := s.DB().Exec(ddl).Error; err != nil {
					t.Fatal(err)
				}
			}
			const at = "collections.app.attachments.erase.0"
			for _, tc := range []struct{ name, erase, want string }{
				{"sound", "DELETE FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id", ": ok ("},
				{"interpolation", "DELETE FROM attachments WHERE owner_id = ${user_id}", at + ": holds ${"},
				{"quoted parameter", "DELETE FROM attachments WHERE name = ':email'", at + ": a parameter inside quotes"},
				{"identity in a literal", "DELETE FROM attachments WHERE name = 'ann' || '@example.com'", at + ": quotes text that looks like an email"},
				{"two statements", "DELETE FROM attachments WHERE owner_id = :app.users.id; DROP TABLE users", at + ": holds more than one statement"},
				{"unknown table", "DELETE FROM attachmentz WHERE owner_id = :app.users.id", at + ": the database refuses it: "},
				{"unknown parameter", "DELETE FROM attachments WHERE owner_id = :app.users.uid", at + ": :app.users.uid: app.users has no column uid"},
				{"no identity", "DELETE FROM attachments WHERE owner_type = 'user'", at + ": binds no identity nor column"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					path := filepath.Join(t.TempDir(), "lethe.yaml")
					if err := os.WriteFile(path, []byte(fmt.Sprintf(templateCheckRegistry, driver, tc.erase)), 0o600); err != nil {
						t.Fatal(err)
					}
					out, _, code := runCLI(t, env, "config", "check", "--config", path)
					if !strings.Contains(out, tc.want) || (code == 0) != (tc.name == "sound") {
						t.Fatalf("exit %d, output:\n%s\nwant %q", code, out, tc.want)
					}
					if tc.name == "unknown table" && !strings.Contains(out, "attachmentz") {
						t.Errorf("the database's reason should name the table: %s", out)
					}
				})
			}
		})
	}
}
