package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

var dialects = testkit.Drivers

// testRegistry covers every feature the scenarios need: identity in two
// collections, a tenant column, hops two deep, a composite key, JSON paths,
// anonymise-not-delete, a cross-store reference and a kept collection.
const testRegistry = `
stores:
  app:     {kind: sql, driver: %[1]s, dsn_env: APP_DSN}
  billing: {kind: sql, driver: %[1]s, dsn_env: BILLING_DSN}
  files:   {kind: blob, url: "file:///tmp/lethe-test-uploads"}
purposes: {service: Run the app, invoicing: Invoices}
collections:
  app.users:
    identity: {email: email}
    categories: {email: user.contact.email, name: user.name}
    erasure: delete
  app.newsletter:
    primary_key: email
    identity: {email: email}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    json: {body: ["author.email", "parts[*].text"]}
    erasure: delete
  app.uploads:
    references: {chat_id: chats.id}
    files: {storage_key: files}
    erasure: delete
  app.profiles:
    primary_key: [user_id, kind]
    references: {user_id: users.id}
    json: {doc: ["contact.email", "notes[*].text"]}
    erasure:
      anonymize: {bio: redact, contact: hmac, label: "fixed:gone", "doc.contact.email": hmac, "doc.notes[*].text": null}
  billing.customers:
    references: {user_ref: app.users.id}
    categories: {email: user.contact.email, name: user.name}
    purpose: invoicing
    erasure: {anonymize: {email: hmac, name: null}}
  billing.invoices:
    references: {customer_id: customers.id}
    categories: {amount: finance.amount}
    erasure: {keep: "legal obligation, GDPR Art. 17(3)(b)"}
`

var appDDL = []string{
	`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255))`,
	`CREATE TABLE newsletter (email VARCHAR(255) PRIMARY KEY, note VARCHAR(255))`,
	`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL, title VARCHAR(255))`,
	`CREATE INDEX chats_user_id ON chats (user_id)`,
	`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL, body TEXT NOT NULL)`,
	`CREATE INDEX messages_chat_id ON messages (chat_id)`,
	`CREATE TABLE uploads (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL, storage_key VARCHAR(255) NOT NULL)`,
	`CREATE TABLE profiles (user_id BIGINT NOT NULL, kind VARCHAR(32) NOT NULL, bio TEXT, contact VARCHAR(255), label VARCHAR(64), doc TEXT, PRIMARY KEY (user_id, kind))`,
}

var billingDDL = []string{
	`CREATE TABLE customers (id BIGINT PRIMARY KEY, user_ref BIGINT NOT NULL, email VARCHAR(255), name VARCHAR(255))`,
	`CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, amount BIGINT NOT NULL)`,
}

// Users of the fixture. The awkward addresses prove that quotes, '%', '_'
// and backslashes are plain characters: likeDecoy would match if '%' and
// '_' were wildcards, slashDecoy if a backslash were an escape.
var fixtureUsers = []struct {
	id    int64
	email string
}{
	{1, "Alice@Example.com"},
	{2, "bob@example.com"},
	{3, `q'u%o_t\e@example.com`},
	{4, `q'uXoYt\e@example.com`},  // likeDecoy
	{5, `q'u%o_t\\e@example.com`}, // slashDecoy
	{6, `Q'U%O_T\E@EXAMPLE.COM`},  // the same address as 3, case aside
	{7, `x' OR '1'='1@example.com`},
	{8, `"; DELETE FROM users; --@example.com`},
}

// env is one test's pair of stores, registry and engine.
type env struct {
	driver       string
	app, billing *sqlstore.Store
	reg          *registry.Registry
	eng          *engine.Engine
}

func setup(t *testing.T, driver string) *env {
	t.Helper()
	reg := testkit.Registry(t, testRegistry, driver)
	e := &env{driver: driver, reg: reg}
	e.app = testkit.OpenStore(t, "app", driver, appDDL...)
	e.billing = testkit.OpenStore(t, "billing", driver, billingDDL...)
	e.seed(t)
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app, "billing": e.billing}, dsr.NewSubjectHasher([]byte("test-key")))
	e.eng.Blobs = fileBlobs(t)
	e.eng.BatchSize = 4 // several batches per collection
	e.eng.RowBatch = 3
	return e
}

// seed gives every user two chats (studios acme and globex) of three
// messages and one upload each, two profiles, a newsletter row, a billing
// customer and two invoices.
func (e *env) seed(t *testing.T) {
	for _, u := range fixtureUsers {
		testkit.Exec(t, e.app, `INSERT INTO users (id, email, name) VALUES (?, ?, ?)`, u.id, u.email, fmt.Sprintf("User %d", u.id))
		if u.id != 6 { // a case-insensitive MySQL key would take it for user 3's
			testkit.Exec(t, e.app, `INSERT INTO newsletter (email, note) VALUES (?, ?)`, u.email, "weekly")
		}
		for k, studio := range []string{"acme", "globex"} {
			chat := u.id*10 + int64(k)
			testkit.Exec(t, e.app, `INSERT INTO chats (id, studio_id, user_id, title) VALUES (?, ?, ?, ?)`, chat, studio, u.id, "chat")
			for m := range int64(3) {
				body, _ := json.Marshal(map[string]any{"author": map[string]any{"email": u.email, "name": "n"},
					"parts": []any{map[string]any{"text": "hello from " + u.email}}})
				testkit.Exec(t, e.app, `INSERT INTO messages (id, chat_id, body) VALUES (?, ?, ?)`, chat*10+m, chat, string(body))
			}
			testkit.Exec(t, e.app, `INSERT INTO uploads (id, chat_id, storage_key) VALUES (?, ?, ?)`, chat, chat, fmt.Sprintf("cv/%d.pdf", chat))
		}
		for _, kind := range []string{"main", "work"} {
			doc, _ := json.Marshal(map[string]any{"contact": map[string]any{"email": u.email, "phone": "1"},
				"notes": []any{map[string]any{"text": "mail " + u.email}}, "keep": "x"})
			testkit.Exec(t, e.app, `INSERT INTO profiles (user_id, kind, bio, contact, label, doc) VALUES (?, ?, ?, ?, ?, ?)`,
				u.id, kind, "bio of "+u.email, u.email, "vip", string(doc))
		}
		testkit.Exec(t, e.billing, `INSERT INTO customers (id, user_ref, email, name) VALUES (?, ?, ?, ?)`, u.id+100, u.id, u.email, "Name")
		for k := range int64(2) {
			testkit.Exec(t, e.billing, `INSERT INTO invoices (id, customer_id, amount) VALUES (?, ?, ?)`, (u.id+100)*10+k, u.id+100, 42)
		}
	}
}

// dump reads every row of every table: table → key → "col=value;…".
func (e *env) dump(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, tbl := range []struct {
		s     *sqlstore.Store
		name  string
		key   string
		order string
	}{
		{e.app, "users", "id", "id, email, name"},
		{e.app, "newsletter", "email", "email, note"},
		{e.app, "chats", "id", "id, studio_id, user_id, title"},
		{e.app, "messages", "id", "id, chat_id, body"},
		{e.app, "uploads", "id", "id, chat_id, storage_key"},
		{e.app, "profiles", "user_id, kind", "user_id, kind, bio, contact, label, doc"},
		{e.billing, "customers", "id", "id, user_ref, email, name"},
		{e.billing, "invoices", "id", "id, customer_id, amount"},
	} {
		rows := dumpRows(t, tbl.s, "SELECT "+tbl.order+" FROM "+tbl.name+" ORDER BY "+tbl.key)
		nkey := len(strings.Split(tbl.key, ","))
		out[tbl.name] = map[string]string{}
		for _, r := range rows {
			out[tbl.name][strings.Join(r[:nkey], "|")] = strings.Join(r, "|")
		}
	}
	return out
}

func dumpRows(t *testing.T, s *sqlstore.Store, query string) [][]string {
	t.Helper()
	rows, err := s.DB().Raw(query).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = strconv.Quote(v.String)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fileBlobs is the fixture's blob store "files": an empty folder, so the
// fixture's file keys name objects that are already gone.
func fileBlobs(t *testing.T) map[string]engine.BlobStore {
	t.Helper()
	bs, err := blobstore.Open(context.Background(), "files", "file://"+t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	return map[string]engine.BlobStore{"files": bs}
}

// rowCounter is an Exporter that reads every row through the streaming
// reader and stores nothing.
type rowCounter struct{ rows map[string]int64 }

func (rc rowCounter) Export(ctx context.Context, _ *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	for _, it := range a.Plan.Collections {
		c := a.Registry.Collections[it.Store+"."+it.Collection]
		err := a.Rows(ctx, c, func([]string, []any) error { rc.rows[c.Key]++; return nil })
		if err != nil {
			return nil, err
		}
	}
	return &engine.ExportResult{Object: "none"}, nil
}
