package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const keysRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.pairs:
    primary_key: id
    references: {user_id: users.id}
    erasure: delete
  app.swapped:
    primary_key: [user_id, id]
    references: {user_id: users.id}
    erasure: delete
  app.loose:
    references: {user_id: users.id}
    erasure: delete
  app.loose_kept:
    primary_key: id
    references: {user_id: users.id}
    erasure: {keep: "tax law"}
  app.loose_read:
    references: {user_id: users.id}
    erasure: {keep: "tax law"}
  app.nullable:
    references: {user_id: users.id}
    erasure: delete
  app.coded:
    references: {user_id: users.id}
    erasure: delete
`

// TestCheckLiveKeys checks that CheckLive takes keys from the live tables
// and reports every key Lethe cannot address rows by.
func TestCheckLiveKeys(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, d string) {
		s := testkit.OpenStore(t, "app", d,
			`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
			`CREATE TABLE pairs (id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL, PRIMARY KEY (id, user_id))`,
			`CREATE TABLE swapped (id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL, PRIMARY KEY (id, user_id))`,
			`CREATE TABLE loose (id BIGINT, user_id BIGINT)`,
			`CREATE TABLE loose_kept (id BIGINT, user_id BIGINT)`,
			`CREATE TABLE loose_read (id BIGINT, user_id BIGINT)`,
			`CREATE TABLE nullable (id BIGINT, user_id BIGINT)`,
			`CREATE UNIQUE INDEX nullable_id ON nullable (id)`,
			`CREATE TABLE coded (code VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL)`,
			`CREATE UNIQUE INDEX coded_code ON coded (code)`)
		reg := testkit.Registry(t, keysRegistry, d)
		before := reg.Version()
		_, err := reg.CheckLive(context.Background(), sqlstore.Stores{"app": s}.Schemas())
		if err == nil {
			t.Fatal("CheckLive passed")
		}
		msg := err.Error()
		for _, want := range []string{
			`collections.app.pairs.primary_key: primary_key (id) is not a key of table "pairs" (its key is (id, user_id))`,
			`collections.app.loose.primary_key: table "loose" has no primary key or unique index of NOT NULL columns`,
			`collections.app.loose_kept.primary_key: primary_key (id) is not unique in table "loose_kept"`,
			`collections.app.nullable.primary_key: table "nullable" has no primary key`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("missing %q in\n%s", want, msg)
			}
		}
		for _, unwanted := range []string{"app.swapped", "app.coded", "app.loose_read", "app.users"} {
			if strings.Contains(msg, unwanted+".") {
				t.Errorf("%s reported:\n%s", unwanted, msg)
			}
		}
		if got := reg.Collections["app.swapped"].PrimaryKey; !slices.Equal(got, []string{"user_id", "id"}) {
			t.Errorf("swapped key = %v, want the declared order", got)
		}
		if got := reg.Collections["app.coded"].PrimaryKey; !slices.Equal(got, []string{"code"}) {
			t.Errorf("coded key = %v, want its unique NOT NULL index", got)
		}
		notes := strings.Join(reg.Notes(time.Now()), "\n")
		if !strings.Contains(notes, `collections.app.coded: primary key (code), read from table "coded"`) {
			t.Errorf("notes =\n%s", notes)
		}
		if reg.Version() != before {
			t.Errorf("a refused registry was resealed")
		}
	})
}
