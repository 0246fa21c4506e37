package knownpeople_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/knownpeople"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// chatRegistry is a chat application: users shared by the studios, their
// chats in one studio each, messages whose author is a JSON path.
const chatRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email, user_id: id}
    categories: {email: user.contact.email, name: user.name, phone: user.contact.phone}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    categories: {body: user.content.chat, body.author.name: user.name}
    json: {body: ["author.name", "text"]}
    erasure: delete
`

type fixture struct {
	reg     *registry.Registry
	store   *sqlstore.Store
	keyring *redact.Keyring
	index   *knownpeople.Index
	hasher  *dsr.SubjectHasher
	nextID  int
}

func newFixture(t *testing.T, driver string, opts knownpeople.Options) *fixture {
	t.Helper()
	st := testkit.OpenStore(t, "app", driver,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(200), phone VARCHAR(40))`,
		`CREATE TABLE chats (id INTEGER PRIMARY KEY, studio_id VARCHAR(40) NOT NULL, user_id INTEGER NOT NULL)`,
		`CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, body TEXT NOT NULL)`)
	reg, err := registry.Parse([]byte(fmt.Sprintf(chatRegistry, driver)))
	if err != nil {
		t.Fatal(err)
	}
	k, err := redact.NewKeyring([]byte("knownpeople-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: reg, store: st, keyring: k, hasher: dsr.NewSubjectHasher([]byte("knownpeople-subject-key-0123456789"))}
	f.index = knownpeople.New(reg, map[string]connector.Reader{"app": st}, k, f.hasher, opts, nil)
	return f
}

// newCoaching is a fixture where Ada and Grace use career-coach.
func newCoaching(t *testing.T, driver string) *fixture {
	t.Helper()
	f := newFixture(t, driver, knownpeople.Options{})
	f.user(t, "career-coach", "ada@example.com", "Ada Lovelace")
	f.user(t, "career-coach", "grace@example.com", "Grace Hopper")
	return f
}

// user adds a user with a chat in studio and a message naming its author.
func (f *fixture) user(t *testing.T, studio, email, name string) {
	t.Helper()
	f.nextID++
	id := f.nextID
	testkit.Exec(t, f.store, `INSERT INTO users (id, email, name) VALUES (?, ?, ?)`, id, email, name)
	testkit.Exec(t, f.store, `INSERT INTO chats (id, studio_id, user_id) VALUES (?, ?, ?)`, id, studio, id)
	testkit.Exec(t, f.store, `INSERT INTO messages (id, chat_id, body) VALUES (?, ?, ?)`, id, id,
		fmt.Sprintf(`{"author":{"name":%q},"text":"hello"}`, name))
}

// hides reports whether studio's Redactor replaces name in a sentence.
func (f *fixture) hides(studio, name string) bool {
	text := "Yesterday " + name + " sent the offer"
	out, _ := f.keyring.For(studio).Redact(text)
	return !strings.Contains(out, name)
}

// TestKnownPeopleOfEachStudio: the dictionary holds each studio's people,
// read from a shared users table through the studio's chats and from the
// messages' author path, and only them: one studio's people are neither
// replaced nor revealed in another's text.
func TestKnownPeopleOfEachStudio(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newCoaching(t, driver)
		f.user(t, "calm-mind", "alan@example.com", "Alan Turing")
		testkit.Exec(t, f.store, `INSERT INTO messages (id, chat_id, body) VALUES (100, 3, '{"author":{"name":"Mei Chen"},"text":"hi"}')`)
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if n, m := f.index.Len("career-coach"), f.index.Len("calm-mind"); n != 2 || m != 2 {
			t.Errorf("people: career-coach %d, calm-mind %d; want 2 and 2 (Alan and Mei Chen)", n, m)
		}
		cc := f.keyring.For("career-coach")
		text := "Hi, I'm Grace Hopper; G. Hopper and Ada Lovelace know Alan Turing, by the grace of god"
		out, spans := cc.Redact(text)
		grace, ada := cc.Pseudonym(redact.Name, "Grace Hopper"), cc.Pseudonym(redact.Name, "Ada Lovelace")
		want := "Hi, I'm " + grace + "; " + grace + " and " + ada + " know Alan Turing, by the grace of god"
		if out != want || len(spans) != 3 {
			t.Errorf("career-coach:\n got %s\nwant %s", out, want)
		}
		cm := f.keyring.For("calm-mind")
		out, spans = cm.Redact(text)
		if want := strings.Replace(text, "Alan Turing", cm.Pseudonym(redact.Name, "Alan Turing"), 1); out != want || len(spans) != 1 {
			t.Errorf("calm-mind replaced another studio's people or missed its own:\n got %s\nwant %s", out, want)
		}
		if !f.hides("calm-mind", "Mei Chen") || f.hides("career-coach", "Mei Chen") {
			t.Error("the author named in a calm-mind message is not calm-mind's alone")
		}
		if f.hides("other-studio", "Grace Hopper") || f.hides("other-studio", "Alan Turing") {
			t.Error("a studio with no people hides other studios' people")
		}
	})
}

// TestKnownPeopleRefresh: the incremental walk adds the people of new
// rows, a studio's first ones included; the bound keeps a studio's
// dictionary at Max people.
func TestKnownPeopleRefresh(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newFixture(t, driver, knownpeople.Options{Max: 3, BatchSize: 2})
		f.user(t, "career-coach", "ada@example.com", "Ada Lovelace")
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		f.user(t, "career-coach", "grace@example.com", "Grace Hopper")
		f.user(t, "calm-mind", "alan@example.com", "Alan Turing")
		if f.hides("career-coach", "Grace Hopper") {
			t.Fatal("Grace is known before any walk read her")
		}
		if err := f.index.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !f.hides("career-coach", "Grace Hopper") || !f.hides("career-coach", "Ada Lovelace") || !f.hides("calm-mind", "Alan Turing") {
			t.Error("the incremental walk missed new people")
		}
		for _, u := range []struct{ email, name string }{{"k@example.com", "Katherine Johnson"}, {"m@example.com", "Margaret Hamilton"}, {"d@example.com", "Dorothy Vaughan"}} {
			f.user(t, "career-coach", u.email, u.name)
		}
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.index.Len("career-coach"); n != 3 {
			t.Errorf("career-coach holds %d people; want the bound, 3", n)
		}
	})
}

// TestKnownPeopleErasure: a completed erasure drops its person from the
// dictionary at once, without waiting for the next walk, in the studio it
// was filed for; the other people stay known.
func TestKnownPeopleErasure(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newCoaching(t, driver)
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		// The Runner of lethe serve, on a real state store, tells the
		// index of the request's end once it is stored, after the address
		// is forgotten.
		f.erase(t, dsr.NewRequest{Type: dsr.TypeErasure, Email: "Ada@example.com", Tenant: "career-coach"})
		if f.hides("career-coach", "Ada Lovelace") || f.index.Len("career-coach") != 1 {
			t.Errorf("Ada is still known after her erasure (%d people)", f.index.Len("career-coach"))
		}
		if !f.hides("career-coach", "Grace Hopper") {
			t.Error("Grace was dropped with Ada")
		}
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if f.hides("career-coach", "Ada Lovelace") {
			t.Error("the rebuild brought Ada back")
		}
	})
}

// crossRegistry is chatRegistry whose messages also name their sender in
// the shared users table: a collection with a tenant-scoped parent and a
// shared one.
var crossRegistry = strings.Replace(chatRegistry, "references: {chat_id: chats.id}",
	"references: {chat_id: chats.id, user_id: users.id}", 1)

// TestKnownPeopleNotThroughSharedParent: a message belongs to the studio
// of its chat only, not to every studio its sender has a chat in. A user
// with chats in acme and globex sends a globex message naming a globex
// client: acme's dictionary does not hold her, so acme cannot probe its
// Redactor for another studio's people.
func TestKnownPeopleNotThroughSharedParent(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := testkit.OpenStore(t, "app", driver,
			`CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(200), phone VARCHAR(40))`,
			`CREATE TABLE chats (id INTEGER PRIMARY KEY, studio_id VARCHAR(40) NOT NULL, user_id INTEGER NOT NULL)`,
			`CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, user_id INTEGER NOT NULL, body TEXT NOT NULL)`)
		reg, err := registry.Parse([]byte(fmt.Sprintf(crossRegistry, driver)))
		if err != nil {
			t.Fatal(err)
		}
		k, err := redact.NewKeyring([]byte("knownpeople-test-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{reg: reg, store: st, keyring: k}
		f.index = knownpeople.New(reg, map[string]connector.Reader{"app": st}, k, nil, knownpeople.Options{}, nil)
		testkit.Exec(t, st, `INSERT INTO users (id, email, name) VALUES (1, 'sam@example.com', 'Sam Consultant')`)
		testkit.Exec(t, st, `INSERT INTO chats (id, studio_id, user_id) VALUES (1, 'acme', 1), (2, 'globex', 1)`)
		testkit.Exec(t, st, `INSERT INTO messages (id, chat_id, user_id, body) VALUES (1, 1, 1, '{"author":{"name":"Sam Consultant"},"text":"hi"}')`)
		testkit.Exec(t, st, `INSERT INTO messages (id, chat_id, user_id, body) VALUES (2, 2, 1, '{"author":{"name":"Zora Globexclient"},"text":"hi"}')`)
		if err := f.index.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		if !f.hides("globex", "Zora Globexclient") {
			t.Error("globex does not know the author of its own message")
		}
		if f.hides("acme", "Zora Globexclient") {
			t.Error("acme's Redactor replaces a name found only in a globex message")
		}
		if !f.hides("acme", "Sam Consultant") || !f.hides("globex", "Sam Consultant") {
			t.Error("the user with chats in both studios is not known in both")
		}
	})
}

// erase files req and runs it to completion as the Runner of lethe serve
// does, on a real state store: it tells the index of the request's end
// once it is stored, after the address is forgotten.
func (f *fixture) erase(t *testing.T, req dsr.NewRequest) {
	t.Helper()
	f.eraseOn(t, "sqlite://"+testdb.SQLite(t), req)
}

// eraseOn is erase on the state store at url.
func (f *fixture) eraseOn(t *testing.T, url string, req dsr.NewRequest) {
	t.Helper()
	ctx := context.Background()
	db, err := state.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: f.hasher, Audit: audit, Identities: f.reg,
		Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
	runs := &state.ExecutionStore{DB: db, Audit: audit, Requests: requests}
	runner := &dsr.Runner{Store: runs, Executor: engine.New(f.reg, map[string]connector.Store{"app": f.store}, f.hasher),
		Now: time.Now, Logger: slog.New(slog.DiscardHandler), Observer: f.index}
	r, _, err := requests.Create(ctx, dsr.Caller{Admin: true}, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Run(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	if r, err = runs.Load(ctx, r.ID); err != nil || r.Status != dsr.StatusCompleted {
		t.Fatalf("erasure: %+v, %v", r, err)
	}
}

// TestKnownPeopleErasureByOtherIdentity: an erasure filed by user_id, which
// the dictionary does not hold, still drops its person, and the name her
// messages carry, without waiting for the hourly rebuild: the studio is
// read again once her rows are gone. Other studios' people stay known.
func TestKnownPeopleErasureByOtherIdentity(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFixture(t, driver, knownpeople.Options{Every: time.Hour, RebuildEvery: time.Hour})
		f.user(t, "career-coach", "ada@example.com", "Ada Lovelace")
		f.user(t, "career-coach", "grace@example.com", "Grace Hopper")
		f.user(t, "calm-mind", "alan@example.com", "Alan Turing")
		// Ada's message signed with a name of hers the users table does
		// not hold: kept under that name alone.
		testkit.Exec(t, f.store, `INSERT INTO messages (id, chat_id, body) VALUES (100, 1, '{"author":{"name":"Countess Lovelace"},"text":"hi"}')`)
		done := make(chan struct{})
		go func() { defer close(done); f.index.Run(ctx) }()
		defer func() { cancel(); <-done }()
		<-f.index.Built()
		if !f.hides("career-coach", "Ada Lovelace") || !f.hides("career-coach", "Countess Lovelace") {
			t.Fatal("Ada is not known before her erasure")
		}
		f.erase(t, dsr.NewRequest{Type: dsr.TypeErasure, Tenant: "career-coach", Identities: map[string]string{"user_id": "1"}})
		testkit.Eventually(t, 10*time.Second, "Ada dropped after her erasure by user_id", func() error {
			if f.hides("career-coach", "Ada Lovelace") || f.hides("career-coach", "Countess Lovelace") {
				return fmt.Errorf("still known (%d people)", f.index.Len("career-coach"))
			}
			return nil
		})
		if !f.hides("career-coach", "Grace Hopper") || !f.hides("calm-mind", "Alan Turing") {
			t.Error("the others were dropped with Ada")
		}
	})
}

// TestKnownPeopleErasureOnAnotherReplica: two replicas share the state
// store and the application. The one that runs an erasure drops the
// person at once; the other, which is told of nothing, drops her at its
// next walk (every second here), reading the completed erasures from the
// state store, well before its hourly rebuild. Its other people stay
// known.
func TestKnownPeopleErasureOnAnotherReplica(t *testing.T) {
	for _, dialect := range []string{state.SQLite, state.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			driver, url := "sqlite", "sqlite://"+testdb.SQLite(t)
			if dialect == state.Postgres {
				driver, url = "postgres", testdb.Postgres(t)
			}
			a := newFixture(t, driver, knownpeople.Options{Every: time.Hour, RebuildEvery: time.Hour})
			a.user(t, "career-coach", "ada@example.com", "Ada Lovelace")
			a.user(t, "career-coach", "grace@example.com", "Grace Hopper")
			if err := a.index.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			// The other replica: its own keyring, index and connection to
			// the state store.
			db, err := state.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			k, err := redact.NewKeyring([]byte("knownpeople-test-secret-0123456789"))
			if err != nil {
				t.Fatal(err)
			}
			b := &fixture{reg: a.reg, store: a.store, keyring: k, hasher: a.hasher}
			b.index = knownpeople.New(a.reg, map[string]connector.Reader{"app": a.store}, k, a.hasher,
				knownpeople.Options{Every: time.Second, RebuildEvery: time.Hour, Erasures: &state.CompletedErasures{DB: db}}, nil)
			done := make(chan struct{})
			go func() { defer close(done); b.index.Run(ctx) }()
			defer func() { cancel(); <-done }()
			<-b.index.Built()
			if !b.hides("career-coach", "Ada Lovelace") {
				t.Fatal("the other replica does not know Ada before her erasure")
			}
			a.eraseOn(t, url, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ada@example.com", Tenant: "career-coach"})
			if a.hides("career-coach", "Ada Lovelace") {
				t.Error("the replica that ran the erasure still knows Ada")
			}
			erased := time.Now()
			testkit.Eventually(t, 5*time.Second, "the other replica drops Ada at its next walk", func() error {
				if b.hides("career-coach", "Ada Lovelace") {
					return fmt.Errorf("still known (%d people)", b.index.Len("career-coach"))
				}
				return nil
			})
			t.Logf("dropped by the other replica %v after the erasure", time.Since(erased).Round(10*time.Millisecond))
			if !b.hides("career-coach", "Grace Hopper") {
				t.Error("the other replica dropped Grace with Ada")
			}
		})
	}
}
