package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const foldCheckRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
`

// TestCheckLiveWarnsOfFolding: config check says where an identity
// column's collation does not fold as Lethe does, and what Lethe matches it
// with instead; a Unicode collation draws no such warning.
func TestCheckLiveWarnsOfFolding(t *testing.T) {
	for _, tc := range []struct {
		name, driver, emailType, want string
	}{
		{"postgres default", registry.DriverPostgres, "VARCHAR(255)", ""},
		{"postgres collate C", registry.DriverPostgres, `VARCHAR(255) COLLATE "C"`, `COLLATE "C.utf8"`},
		{"mariadb utf8mb4", registry.DriverMySQL, "VARCHAR(255)", ""},
		{"mariadb binary", registry.DriverMySQL, "VARBINARY(255)", "give it a utf8mb4 collation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := testdb.MySQL(t)
			if tc.driver == registry.DriverPostgres {
				dsn = testdb.Postgres(t)
			}
			s, err := sqlstore.Open("app", tc.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, stmt := range []string{
				fmt.Sprintf(`CREATE TABLE users (id BIGINT PRIMARY KEY, email %s NOT NULL)`, tc.emailType),
				`CREATE INDEX users_email ON users (email)`,
			} {
				if err := s.DB().Exec(stmt).Error; err != nil {
					t.Fatal(err)
				}
			}
			reg := testkit.Registry(t, foldCheckRegistry, tc.driver)
			warnings, err := reg.CheckLive(context.Background(), sqlstore.Stores{"app": s}.Schemas())
			if err != nil {
				t.Fatal(err)
			}
			var fold []string
			for _, w := range warnings {
				if strings.Contains(w.Message, "fold") {
					fold = append(fold, w.String())
				}
			}
			switch {
			case tc.want == "" && len(fold) > 0:
				t.Errorf("warnings about folding on a Unicode column: %v", fold)
			case tc.want != "" && (len(fold) != 1 || !strings.Contains(fold[0], tc.want) || !strings.Contains(fold[0], "collections.app.users.identity.email")):
				t.Errorf("warnings = %v, want one at the identity naming %q", fold, tc.want)
			}
		})
	}
}
