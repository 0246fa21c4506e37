package retention_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const subjectKey = "retention-test-subject-key-0123456789"

// t0 is the injected now of every sweep.
var t0 = time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// quiet is the logger of the sweepers and runners under test: errors only.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

const fixtureRegistry = `
stores:
  app:   {kind: sql, driver: %s, dsn_env: APP_DSN}
  files: {kind: blob, url: "mem://"}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    retention: {window: 30d, timestamp: created_at}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    retention: {window: 30d, timestamp: created_at}
    erasure: delete
  app.uploads:
    references: {chat_id: chats.id}
    files: {storage_key: files}
    retention: {window: 7d, timestamp: created_at}
    erasure: delete
retention: {batch_size: 2}
`

// chat is a fixture chat: its studio, user and age; each chat has three
// messages (ages: the chat's, the chat's minus a day, and one day) and the
// uploads listed.
type chat struct {
	id      int64
	studio  string
	user    int64
	age     time.Duration
	uploads map[string]time.Duration // storage key → age
}

var users = map[int64]string{1: "alice@example.com", 2: "bob@example.com", 3: "carol@example.com"}

var chats = []chat{
	{id: 10, studio: "s1", user: 1, age: 40 * day, uploads: map[string]time.Duration{"u/10": 1 * day}},
	{id: 11, studio: "s1", user: 1, age: 5 * day, uploads: map[string]time.Duration{"u/11a": 8 * day, "u/11b": 2 * day}},
	{id: 12, studio: "s1", user: 3, age: 50 * day},
	{id: 13, studio: "s1", user: 1, age: 10 * day},
	{id: 20, studio: "s2", user: 2, age: 40 * day},
	{id: 21, studio: "s2", user: 2, age: 10 * day},
	{id: 30, studio: "s3", user: 2, age: 45 * day, uploads: map[string]time.Duration{"u/30": 20 * day}},
}

// fixture is one test's application database, Lethe state and Sweeper.
type fixture struct {
	driver string
	reg    *registry.Registry
	store  *sqlstore.Store
	db     *state.DB
	parts  struct {
		runs     *state.RetentionRuns
		holds    *state.Holds
		settings *state.TenantSettings
	}
	eng    *engine.Engine
	hasher *dsr.SubjectHasher
	blobs  *blobstore.Store // mem://, holding every upload's file
}

// newFixture creates and fills the application tables on driver, and a
// SQLite state store (stateURL "" ) or the one given.
func newFixture(t *testing.T, driver, stateURL string) *fixture {
	t.Helper()
	return newFixtureOf(t, driver, stateURL, fmt.Sprintf(fixtureRegistry, driver), (*fixture).fill)
}

// newFixtureOf is newFixture with another registry and tables: fill
// creates and fills them.
func newFixtureOf(t *testing.T, driver, stateURL, reg string, fill func(*fixture, *testing.T)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{driver: driver, hasher: dsr.NewSubjectHasher([]byte(subjectKey))}
	f.reg = testkit.Registry(t, reg)
	var err error
	if f.store, err = sqlstore.Open("app", driver, testkit.DSN(t, driver)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	fill(f, t)
	if stateURL == "" {
		stateURL = "sqlite://" + testdb.SQLite(t)
	}
	if f.db, err = state.Open(ctx, stateURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.db.Now = func() time.Time { return t0 }
	audit := &state.AuditLog{DB: f.db}
	f.parts.runs = &state.RetentionRuns{DB: f.db, Audit: audit, Subject: f.hasher}
	f.parts.holds = &state.Holds{DB: f.db, Audit: audit}
	f.parts.settings = &state.TenantSettings{DB: f.db, Audit: audit}
	f.eng = engine.New(f.reg, map[string]connector.Store{"app": f.store}, f.hasher)
	if f.blobs, err = blobstore.Open(ctx, "files", "mem://", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.blobs.Close() })
	for _, c := range chats {
		for key := range c.uploads {
			if err := f.blobs.Bucket().WriteAll(ctx, key, []byte("cv"), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.eng.Blobs = map[string]engine.BlobStore{"files": f.blobs}
	return f
}

// useRegistry replaces f's registry with src and builds the engine over
// it, keeping the blob store.
func (f *fixture) useRegistry(t *testing.T, src string) {
	t.Helper()
	reg := testkit.Registry(t, src)
	f.reg = reg
	blobs := f.eng.Blobs
	f.eng = engine.New(reg, map[string]connector.Store{"app": f.store}, f.hasher)
	f.eng.Blobs = blobs
}

// files returns the keys left in the blob store, ascending.
func (f *fixture) files(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, c := range chats {
		for key := range c.uploads {
			if ok, err := f.blobs.Exists(context.Background(), key); err != nil {
				t.Fatal(err)
			} else if ok {
				out = append(out, key)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (f *fixture) fill(t *testing.T) {
	t.Helper()
	ts := testkit.TimestampType(f.driver)
	stmts := []string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
		`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL REFERENCES users(id), created_at ` + ts + ` NOT NULL)`,
		`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), body TEXT, created_at ` + ts + ` NOT NULL)`,
		`CREATE TABLE uploads (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), storage_key VARCHAR(255), created_at ` + ts + ` NOT NULL)`,
		`CREATE INDEX chats_created ON chats (created_at)`,
		`CREATE INDEX messages_created ON messages (created_at)`,
	}
	db := f.store.DB()
	if f.driver == registry.DriverSQLite {
		stmts = append([]string{"PRAGMA foreign_keys = ON"}, stmts...)
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{1, 2, 3} {
		if err := db.Exec(`INSERT INTO users (id, email) VALUES (?, ?)`, id, users[id]).Error; err != nil {
			t.Fatal(err)
		}
	}
	upload := int64(1)
	for _, c := range chats {
		if err := db.Exec(`INSERT INTO chats (id, studio_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
			c.id, c.studio, c.user, t0.Add(-c.age)).Error; err != nil {
			t.Fatal(err)
		}
		for i, age := range []time.Duration{c.age, c.age - day, day} {
			if err := db.Exec(`INSERT INTO messages (id, chat_id, body, created_at) VALUES (?, ?, ?, ?)`,
				c.id*10+int64(i), c.id, "hello", t0.Add(-age)).Error; err != nil {
				t.Fatal(err)
			}
		}
		keys := make([]string, 0, len(c.uploads))
		for k := range c.uploads {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := db.Exec(`INSERT INTO uploads (id, chat_id, storage_key, created_at) VALUES (?, ?, ?, ?)`,
				upload, c.id, k, t0.Add(-c.uploads[k])).Error; err != nil {
				t.Fatal(err)
			}
			upload++
		}
	}
}

// sweeper returns a Sweeper over f with the injected clock and no pause.
func (f *fixture) sweeper(store retention.Store) *retention.Sweeper {
	if store == nil {
		store = f.store
	}
	return &retention.Sweeper{Registry: f.reg, Stores: map[string]retention.Store{"app": store}, Engine: f.eng,
		Runs: f.parts.runs, Holds: f.parts.holds, Settings: f.parts.settings, Now: func() time.Time { return t0 },
		Pause: -1, Files: retention.DeleteFileFunc(func(ctx context.Context, store, key string) error {
			_, err := f.blobs.Delete(ctx, key)
			return err
		}), Logger: quiet}
}

// ids returns the ids left in table, ascending; for uploads, storage keys.
func (f *fixture) ids(t *testing.T, table string) []string {
	t.Helper()
	col := "id"
	if table == "uploads" {
		col = "storage_key"
	}
	var out []string
	if err := f.store.DB().Raw("SELECT " + col + " FROM " + table).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// snapshot is every table's ids.
func (f *fixture) snapshot(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, table := range []string{"users", "chats", "messages", "uploads"} {
		out[table] = f.ids(t, table)
	}
	return out
}

// requestRunner returns the request service, execution store and runner
// over f's state and engine, honouring f's holds; nothing is queued.
func (f *fixture) requestRunner() (*state.RequestService, *state.ExecutionStore, *dsr.Runner) {
	audit := &state.AuditLog{DB: f.db}
	requests := &state.RequestService{DB: f.db, Subject: f.hasher, Audit: audit,
		Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
	runs := &state.ExecutionStore{DB: f.db, Audit: audit, Requests: requests}
	runner := &dsr.Runner{Store: runs, Executor: f.eng, Now: func() time.Time { return t0 }, Holds: f.parts.holds, Logger: quiet}
	return requests, runs, runner
}

// hold places a legal hold.
func (f *fixture) hold(t *testing.T, tenant, email string) *retention.Hold {
	t.Helper()
	h, err := retention.NewHold{Tenant: tenant, Email: email, Reason: "case 42"}.Check(f.hasher)
	if err != nil {
		t.Fatal(err)
	}
	if h, err = f.parts.holds.CreateHold(context.Background(), "admin", h); err != nil {
		t.Fatal(err)
	}
	return h
}

// override sets a tenant's retention overrides.
func (f *fixture) override(t *testing.T, tenant string, windows map[string]string) {
	t.Helper()
	checked, err := retention.CheckOverrides(f.reg, windows)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.parts.settings.PutSettings(context.Background(), "admin", &retention.Settings{Tenant: tenant, Retention: checked}); err != nil {
		t.Fatal(err)
	}
}

// sums adds a run's counts per collection.
func sums(runs ...*retention.Run) map[string]retention.Count {
	out := map[string]retention.Count{}
	for _, r := range runs {
		for _, c := range r.Counts {
			s := out[c.Collection]
			s.RowsPurged += c.RowsPurged
			s.FilesPending += c.FilesPending
			s.FilesPurged += c.FilesPurged
			out[c.Collection] = s
		}
	}
	return out
}
