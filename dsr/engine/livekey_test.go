package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// tagRegistry declares no primary key for tables whose key is (id,
// user_id), as a registry written from the application's models would:
// two people's tags share an id.
const tagRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.tags:
    references: {user_id: users.id}
    erasure: delete
  app.prefs:
    references: {user_id: users.id}
    erasure: {anonymize: {value: "fixed:erased"}}
`

var tagDDL = []string{
	`CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
	`CREATE TABLE tags (id VARCHAR(255) NOT NULL, user_id VARCHAR(64) NOT NULL, name VARCHAR(255), PRIMARY KEY (id, user_id))`,
	`CREATE TABLE prefs (id VARCHAR(255) NOT NULL, user_id VARCHAR(64) NOT NULL, value VARCHAR(255), PRIMARY KEY (id, user_id))`,
}

// setupTags opens the tag application on driver with two users, both
// tagged "career", and parses its registry.
func setupTags(t *testing.T, driver string) (*sqlstore.Store, *registry.Registry) {
	t.Helper()
	app := testkit.OpenStore(t, "app", driver, tagDDL...)
	testkit.Exec(t, app, `INSERT INTO users (id, email) VALUES ('u1', 'alice@example.com'), ('u2', 'bob@example.com')`)
	testkit.Exec(t, app, `INSERT INTO tags (id, user_id, name) VALUES ('career', 'u1', 'Career'), ('career', 'u2', 'Career')`)
	reg := testkit.Registry(t, tagRegistry, driver)
	return app, reg
}

// TestErasureCompositeLiveKey erases one of two users who both have a
// "career" tag and a "theme" preference: the other user's rows stay as they
// were, because the key Lethe addresses rows by is read from the table.
func TestErasureCompositeLiveKey(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			app, reg := setupTags(t, d)
			testkit.Exec(t, app, `INSERT INTO tags (id, user_id, name) VALUES ('travel', 'u1', 'Travel')`)
			testkit.Exec(t, app, `INSERT INTO prefs (id, user_id, value) VALUES ('theme', 'u1', 'dark'), ('theme', 'u2', 'light')`)
			if _, err := reg.CheckLive(ctx, sqlstore.Stores{"app": app}.Schemas()); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"app.tags", "app.prefs"} {
				if got := reg.Collections[key].PrimaryKey; !slices.Equal(got, []string{"id", "user_id"}) {
					t.Errorf("%s key = %v, want the table's (id, user_id)", key, got)
				}
			}
			// A request snapshots the registry: the snapshot keeps the table's key.
			snap, err := registry.Parse(reg.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.Collections["app.tags"].PrimaryKey; !slices.Equal(got, []string{"id", "user_id"}) {
				t.Errorf("snapshot key = %v, want (id, user_id)", got)
			}
			eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
			out, err := eng.Execute(ctx, erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Fatalf("verification failed: %+v", out.Verification)
			}
			tags := dumpRows(t, app, `SELECT id, user_id, name FROM tags ORDER BY id, user_id`)
			if want := [][]string{{`"career"`, `"u2"`, `"Career"`}}; !slices.EqualFunc(tags, want, slices.Equal) {
				t.Errorf("tags left = %v, want bob's career tag only", tags)
			}
			prefs := dumpRows(t, app, `SELECT id, user_id, value FROM prefs ORDER BY id, user_id`)
			if want := [][]string{{`"theme"`, `"u1"`, `"erased"`}, {`"theme"`, `"u2"`, `"light"`}}; !slices.EqualFunc(prefs, want, slices.Equal) {
				t.Errorf("prefs = %v, want alice's anonymised and bob's as it was", prefs)
			}
		})
	}
}

// TestStoreRefusesKeyNotOfTable hands the store a registry whose key is
// not the table's (CheckLive not run): every write is refused, and nothing
// changes.
func TestStoreRefusesKeyNotOfTable(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			app, reg := setupTags(t, d)
			eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
			if _, err := eng.Execute(ctx, erasure("alice@example.com", ""), newJournal()); err == nil {
				t.Fatal("erasure with key (id) on a table keyed (id, user_id) succeeded")
			}
			if tags := dumpRows(t, app, `SELECT id, user_id FROM tags`); len(tags) != 2 {
				t.Errorf("tags left = %v, want both", tags)
			}
		})
	}
}
