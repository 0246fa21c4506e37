package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestEmailBySHA256 checks that a hashed identity finds the address stored
// in another case and script on every dialect: the store hashes the folded
// column exactly as Go hashes dsr.FoldEmail of the address, and an
// address nobody holds finds nothing.
func TestEmailBySHA256(t *testing.T) {
	t.Parallel()
	stored := []string{"Ödön.ΟΔΥΣΣΕΥΣ@Example.COM", "plain@example.com", "other@example.com"}
	for _, tc := range []struct {
		name, driver string
		dsn          func(testing.TB) string
		create       string
	}{
		{"postgres", registry.DriverPostgres, testdb.Postgres, `CREATE TABLE users (id INT PRIMARY KEY, email TEXT)`},
		{"postgres with pgcrypto", registry.DriverPostgres, testdb.Postgres, `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE users (id INT PRIMARY KEY, email TEXT)`},
		{"mysql", registry.DriverMySQL, testdb.MySQL, `CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`},
		{"sqlite", registry.DriverSQLite, testdb.SQLite, `CREATE TABLE users (id INT PRIMARY KEY, email TEXT)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := sqlstore.Open("app", tc.driver, tc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			db := st.DB()
			if err := db.Exec(tc.create).Error; err != nil {
				t.Fatal(err)
			}
			for i, e := range stored {
				if err := db.Exec(`INSERT INTO users (id, email) VALUES (?, ?)`, i+1, e).Error; err != nil {
					t.Fatal(err)
				}
			}
			reg, err := registry.Parse([]byte(`
stores:
  app: {kind: sql, driver: ` + tc.driver + `, dsn_env: APP}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
`))
			if err != nil {
				t.Fatal(err)
			}
			res := &sqlstore.SHA256Resolver{Registry: reg, Stores: sqlstore.Stores{"app": st}}
			ctx := context.Background()
			// The controller hashes the lower-cased address; the final
			// sigma folds to σ as dsr.FoldEmail does.
			got, err := res.EmailBySHA256(ctx, sha256Hex(dsr.FoldEmail("ödön.οδυσσευς@example.com")))
			if err != nil {
				t.Fatal(err)
			}
			if got != stored[0] {
				t.Errorf("hash of the folded address found %q, want %q", got, stored[0])
			}
			got, err = res.EmailBySHA256(ctx, sha256Hex("plain@example.com"))
			if err != nil || got != stored[1] {
				t.Errorf("plain address: got %q, %v", got, err)
			}
			got, err = res.EmailBySHA256(ctx, sha256Hex("nobody@example.com"))
			if err != nil || got != "" {
				t.Errorf("unknown address: got %q, %v; want nothing", got, err)
			}
			expr, err := st.SHA256Expr("users", "email")
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.name, "pgcrypto") != strings.Contains(expr, "digest(") {
				t.Errorf("expression %s: pgcrypto's digest is used exactly when installed", expr)
			}
			if strings.HasSuffix(tc.name, "pgcrypto") {
				// The point of digest(): the expression can be indexed.
				if err := db.Exec("CREATE INDEX users_email_sha256 ON users ((" + expr + "))").Error; err != nil {
					t.Fatalf("index on %s: %v", expr, err)
				}
			}
		})
	}
}
