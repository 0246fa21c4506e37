package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const liveRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    categories: {nickname: user.name}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    erasure: delete
  app.gone:
    references: {user_id: users.id}
    erasure: delete
`

func TestCheckLive(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, d string) {
		s := testkit.OpenStore(t, "app", d,
			`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
			`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id VARCHAR(64), user_id BIGINT)`,
			`CREATE INDEX chats_user_id ON chats (user_id)`)
		reg := testkit.Registry(t, liveRegistry, d)
		warnings, err := reg.CheckLive(context.Background(), sqlstore.Stores{"app": s}.Schemas())
		for _, want := range []string{
			`collections.app.gone.table: table "gone" does not exist in store app`,
			`collections.app.users: column "nickname" does not exist in table "users"`,
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		}
		var all []string
		for _, w := range warnings {
			all = append(all, w.String())
		}
		q := func(n string) string { return registry.QuoteColumn(d, n) }
		tenantFix := fmt.Sprintf("CREATE INDEX %s ON %s (%s);", q("lethe_chats_studio_id"), q("chats"), q("studio_id"))
		if joined := strings.Join(all, "\n"); !strings.Contains(joined, "collections.app.chats.tenant") ||
			!strings.Contains(joined, tenantFix) || strings.Contains(joined, "references.user_id") ||
			(d != registry.DriverSQLite && !strings.Contains(joined, "collections.app.users.identity.email")) {
			t.Errorf("warnings =\n%s\nwant the tenant and identity columns with %s, not the indexed reference", joined, tenantFix)
		}
		// SQLite matches through lethe_fold, which no index on lower()
		// serves: no index advice, and the full read said in the notes.
		notes := strings.Join(reg.Notes(time.Now()), "\n")
		if joined := strings.Join(all, "\n"); d == registry.DriverSQLite &&
			(strings.Contains(joined, "identity.email") || !strings.Contains(notes, "no SQLite index serves")) {
			t.Errorf("SQLite warnings =\n%s\nnotes =\n%s\nwant no index advice for the identity column, and the full read in the notes", joined, notes)
		}
	})
}
