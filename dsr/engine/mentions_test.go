package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// mentionsRegistry declares mentions in a JSON path of messages and in a
// whole column of chats, whose tenant the messages reach through chat_id.
const mentionsRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email, phone: phone}
    categories: {email: user.contact.email, name: user.name, phone: user.contact.phone}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    mentions: [title]
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    json: {body: ["author.name", "parts[*].text"]}
    categories: {body.author.name: user.name}
    mentions: ["body.parts[*].text"]
    erasure: delete
`

var mentionsDDL = []string{
	`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255), phone VARCHAR(32))`,
	`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL, title VARCHAR(255))`,
	`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL, body TEXT NOT NULL)`,
}

// The people: Ada (erased), Grace and Alan. Each message is (id, chat, author, text).
var mentionUsers = []struct {
	id                 int64
	email, name, phone string
}{
	{1, "ada@example.com", "Ada Lovelace", "+442079460958"},
	{2, "grace@example.com", "Grace Hopper", "+12025550142"},
	{3, "alan@example.com", "Alan Turing", ""},
}

var mentionChats = []struct {
	id, user      int64
	studio, title string
}{
	{10, 1, "acme", "About Ada Lovelace"}, // Ada's own: erased, not rewritten
	{20, 2, "acme", "Talk with Ada Lovelace"},
	{21, 2, "globex", "plain"},
	{30, 3, "acme", "Sleep"},
}

var mentionMessages = []struct {
	id, chat int64
	text     string
}{
	{100, 10, "I am Ada Lovelace, ada@example.com"},
	{200, 20, "My manager Ada Lovelace said A. Lovelace and Lovelace, Ada are one person; mail ADA@example.com or call 020 7946 0958."},
	{201, 20, "Ada said hi, and Grace Hopper wrote to grace@example.com"},
	{202, 20, "Nothing here: Lovelacey, and Ada alone"},
	{210, 21, "I met Ada Lovelace at globex"},
	{300, 30, "Ádá Lovelace's notes kept me up, ask alan@example.com or +1 202 555 0142. Goodnight."},
}

type mentionsEnv struct {
	app  *sqlstore.Store
	reg  *registry.Registry
	eng  *engine.Engine
	keys *redact.Keyring
}

func setupMentions(t *testing.T, driver string) *mentionsEnv {
	t.Helper()
	reg := testkit.Registry(t, mentionsRegistry, driver)
	e := &mentionsEnv{reg: reg, app: testkit.OpenStore(t, "app", driver, mentionsDDL...)}
	for _, u := range mentionUsers {
		testkit.Exec(t, e.app, `INSERT INTO users (id, email, name, phone) VALUES (?, ?, ?, ?)`, u.id, u.email, u.name, u.phone)
	}
	for _, c := range mentionChats {
		testkit.Exec(t, e.app, `INSERT INTO chats (id, studio_id, user_id, title) VALUES (?, ?, ?, ?)`, c.id, c.studio, c.user, c.title)
	}
	for _, m := range mentionMessages {
		testkit.Exec(t, e.app, `INSERT INTO messages (id, chat_id, body) VALUES (?, ?, ?)`, m.id, m.chat, messageBody(m.chat, m.text))
	}
	var err error
	if e.keys, err = redact.NewKeyring([]byte("a redaction secret for tests")); err != nil {
		t.Fatal(err)
	}
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app}, dsr.NewSubjectHasher([]byte("k")))
	e.eng.Redactors = e.keys
	e.eng.RowBatch = 2 // several pages per scan
	e.eng.Pause = -1
	return e
}

// messageBody is a message's JSON as the application writes it, its
// author named by the chat's owner.
func messageBody(chat int64, text string) string {
	author := ""
	for _, c := range mentionChats {
		if c.id == chat {
			author = mentionUsers[c.user-1].name
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"author": map[string]any{"name": author}, "parts": []any{map[string]any{"text": text}}})
	return strings.TrimSuffix(b.String(), "\n")
}

// dump reads every row: table → id → the row's values, quoted.
func (e *mentionsEnv) dump(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for table, cols := range map[string]string{"users": "id, email, name, phone", "chats": "id, studio_id, user_id, title", "messages": "id, chat_id, body"} {
		out[table] = map[string]string{}
		for _, r := range dumpRows(t, e.app, "SELECT "+cols+" FROM "+table+" ORDER BY id") {
			id, _ := strconv.Unquote(r[0])
			out[table][id] = strings.Join(r, "|")
		}
	}
	return out
}

func adaErasure(tenant string) *dsr.Request {
	return &dsr.Request{ID: "r-ada", Type: dsr.TypeErasure, Email: "ada@example.com", Tenant: tenant,
		Identities: map[string]string{registry.IdentityPhone: "+442079460958"}}
}

// expectMentions returns what the rows of before become once Ada is
// erased within tenant ("" for all): her own rows gone, and in the other
// rows of tenant only her mentions replaced by the tenant's pseudonyms.
func (e *mentionsEnv) expectMentions(before map[string]map[string]string, tenant string) map[string]map[string]string {
	want := map[string]map[string]string{}
	for table, rows := range before {
		want[table] = maps.Clone(rows)
	}
	if tenant == "" { // a studio's request leaves the account, which no studio owns
		delete(want["users"], "1")
	}
	delete(want["chats"], "10")
	delete(want["messages"], "100")
	studio := map[int64]string{}
	for _, c := range mentionChats {
		studio[c.id] = c.studio
	}
	replace := func(tn, s string) string {
		r := e.keys.For(tn)
		name, email, phone := r.Pseudonym(redact.Name, "Ada Lovelace"), r.Pseudonym(redact.Email, "ada@example.com"), r.Pseudonym(redact.Phone, "+442079460958")
		return strings.NewReplacer("Ada Lovelace", name, "A. Lovelace", name, "Lovelace, Ada", name, "Ádá Lovelace", name,
			"ADA@example.com", email, "020 7946 0958", phone).Replace(s)
	}
	for _, c := range mentionChats {
		if c.id != 10 && (tenant == "" || c.studio == tenant) {
			want["chats"][strconv.FormatInt(c.id, 10)] = strings.Join([]string{strconv.Quote(strconv.FormatInt(c.id, 10)), strconv.Quote(c.studio),
				strconv.Quote(strconv.FormatInt(c.user, 10)), strconv.Quote(replace(c.studio, c.title))}, "|")
		}
	}
	for _, m := range mentionMessages {
		if m.id != 100 && (tenant == "" || studio[m.chat] == tenant) {
			id := strconv.FormatInt(m.id, 10)
			want["messages"][id] = strings.Join([]string{strconv.Quote(id), strconv.Quote(strconv.FormatInt(m.chat, 10)),
				strconv.Quote(messageBody(m.chat, replace(studio[m.chat], m.text)))}, "|")
		}
	}
	return want
}

func checkDump(t *testing.T, got, want map[string]map[string]string) {
	t.Helper()
	for table := range want {
		for id, row := range want[table] {
			if got[table][id] != row {
				t.Errorf("%s %s:\n got %s\nwant %s", table, id, got[table][id], row)
			}
		}
		for id := range got[table] {
			if _, ok := want[table][id]; !ok {
				t.Errorf("%s %s: left, want it erased", table, id)
			}
		}
	}
}

func TestErasureRewritesMentions(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			for _, tc := range []struct {
				tenant          string
				messages, chats int64
				messageRows     int64
			}{
				{"", 7, 1, 3},     // 5 in 200, 1 in 210 (globex), 1 in 300
				{"acme", 6, 1, 2}, // globex's 210 is another studio's
			} {
				t.Run("tenant="+tc.tenant, func(t *testing.T) {
					e := setupMentions(t, d)
					before := e.dump(t)
					plan, err := e.eng.PlanIdentities(ctx, map[string]string{"email": "ada@example.com", "phone": "+442079460958"}, tc.tenant)
					if err != nil {
						t.Fatal(err)
					}
					wantPlan := []engine.PlanMention{{Store: "app", Collection: "chats", Count: tc.chats, Rows: 1},
						{Store: "app", Collection: "messages", Count: tc.messages, Rows: tc.messageRows}}
					if fmt.Sprint(plan.Mentions) != fmt.Sprint(wantPlan) {
						t.Errorf("plan mentions = %+v, want %+v", plan.Mentions, wantPlan)
					}
					if got := e.dump(t); fmt.Sprint(got) != fmt.Sprint(before) {
						t.Fatal("the plan changed the database")
					}
					j := newJournal()
					out, err := e.eng.Execute(ctx, adaErasure(tc.tenant), j)
					if err != nil {
						t.Fatal(err)
					}
					if !out.Verification.Passed {
						t.Errorf("verification: %+v", out.Verification)
					}
					if m := out.Details["mentions"]; fmt.Sprint(m) != fmt.Sprint(map[string]int64{"app.chats": tc.chats, "app.messages": tc.messages}) {
						t.Errorf("mentions replaced = %v", m)
					}
					checkDump(t, e.dump(t), e.expectMentions(before, tc.tenant))

					// A mention put back after its step is found by verification
					// (the same journal: every step is done, verification runs again).
					testkit.Exec(t, e.app, `UPDATE messages SET body = ? WHERE id = 202`, messageBody(20, "Ada Lovelace again"))
					again, err := e.eng.Execute(ctx, adaErasure(tc.tenant), j)
					if err != nil {
						t.Fatal(err)
					}
					if again.Verification.Passed || again.Verification.Found["mentions:app.messages"] != 1 {
						t.Errorf("verification with a mention put back: %+v", again.Verification)
					}
				})
			}
		})
	}
}

// TestErasureMentionsResume interrupts an erasure of Ada while it rewrites
// mentions (Ada's own rows, and with them her name, already deleted) and
// at journal saves, resumes it, and expects the uninterrupted outcome.
func TestErasureMentionsResume(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			ref := setupMentions(t, d)
			before := ref.dump(t)
			if _, err := ref.eng.Execute(ctx, adaErasure(""), newJournal()); err != nil {
				t.Fatal(err)
			}
			want := ref.expectMentions(before, "")
			checkDump(t, ref.dump(t), want)
			// Write 1 rewrites chat 20, 2-4 the pages of messages holding 200,
			// 210 and 300; 5 deletes messages, chats and users in one
			// transaction. Saves 9-11 are the chats' mentions step, 12-15 the
			// messages'.
			for _, kp := range []killPoint{{store: 2}, {store: 3, afterCommit: true}, {store: 4}, {store: 5, afterCommit: true}, {store: 5}, {journal: 9}, {journal: 13}, {journal: 15}} {
				t.Run(fmt.Sprintf("store%d-commit%v-journal%d", kp.store, kp.afterCommit, kp.journal), func(t *testing.T) {
					e := setupMentions(t, d)
					j := interruptedWith(t, e.eng, kp, adaErasure(""))
					out, err := e.eng.Execute(ctx, adaErasure(""), j)
					if err != nil {
						t.Fatal(err)
					}
					if !out.Verification.Passed {
						t.Errorf("verification after resume: %+v", out.Verification)
					}
					checkDump(t, e.dump(t), want)
				})
			}
		})
	}
}

// TestDemoMentions: in the demo, Grace names Ada in a Career Coach chat;
// the plan counts that mention and erasing Ada replaces it with the
// studio's pseudonym of her name, leaving the rest of Grace's message.
func TestDemoMentions(t *testing.T) {
	ctx := context.Background()
	eng, app, keys := demoEngine(t)
	plan, err := eng.Plan(ctx, "ada@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(plan.Mentions) != fmt.Sprint([]engine.PlanMention{{Store: "app", Collection: "messages", Count: 1, Rows: 1}}) {
		t.Errorf("plan mentions = %+v", plan.Mentions)
	}
	const query = `SELECT body FROM messages WHERE body LIKE '%Team growth%'`
	before := dumpRows(t, app, query)
	out, err := eng.Execute(ctx, erasure("ada@example.com", ""), newJournal())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Verification.Passed {
		t.Errorf("verification: %+v", out.Verification)
	}
	after := dumpRows(t, app, query)
	name := keys.For("career-coach").Pseudonym(redact.Name, "Ada Lovelace")
	if len(before) != 1 || len(after) != 1 || after[0][0] != strings.Replace(before[0][0], "Ada Lovelace", name, 1) {
		t.Errorf("Grace's message:\nbefore %v\n after %v", before, after)
	}
}

// mentionCollector is an Exporter that keeps the mentions an access
// package would list.
type mentionCollector struct{ got []engine.MentionExcerpt }

func (mc *mentionCollector) Export(ctx context.Context, _ *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	err := a.Mentions(ctx, func(m engine.MentionExcerpt) error { mc.got = append(mc.got, m); return nil })
	return &engine.ExportResult{Object: "none"}, err
}

// TestAccessListsMentions: Ada's access package lists the sentences of
// other people's rows that mention her (not her own rows), once each, with
// the others' address and phone number pseudonymised.
func TestAccessListsMentions(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupMentions(t, d)
			mc := &mentionCollector{}
			e.eng.Exporter = mc
			req := adaErasure("")
			req.Type = dsr.TypeAccess
			if _, err := e.eng.Execute(context.Background(), req, newJournal()); err != nil {
				t.Fatal(err)
			}
			acme := e.keys.For("acme")
			want := []engine.MentionExcerpt{
				{Collection: "app.chats", Field: "title", Sentence: "Talk with Ada Lovelace"},
				{Collection: "app.messages", Field: "body.parts[*].text", Sentence: mentionMessages[1].text},
				{Collection: "app.messages", Field: "body.parts[*].text", Sentence: "Ádá Lovelace's notes kept me up, ask " +
					acme.Pseudonym(redact.Email, "alan@example.com") + " or " + acme.Pseudonym(redact.Phone, "+1 202 555 0142") + "."},
				{Collection: "app.messages", Field: "body.parts[*].text", Sentence: "I met Ada Lovelace at globex"}, // tenant by tenant
			}
			if fmt.Sprint(mc.got) != fmt.Sprint(want) {
				t.Errorf("mentions =\n%v\nwant\n%v", mc.got, want)
			}
		})
	}
}

// readCounter counts the rows a store returns from Rows, and those read
// through an index's prefilter; it keeps the store's own methods
// (MentionIndex among them).
type readCounter struct {
	*sqlstore.Store
	rows, filtered int
}

func (rc *readCounter) Rows(ctx context.Context, sel connector.Selection, cols []string, after *string, limit int) ([]connector.Row, error) {
	rows, err := rc.Store.Rows(ctx, sel, cols, after, limit)
	rc.rows += len(rows)
	if sel.Contains != nil {
		rc.filtered += len(rows)
	}
	return rows, err
}

// TestMentionsPrefilter: with a Postgres pg_trgm GIN index or a MariaDB
// FULLTEXT index on the messages' body (and on SQLite, without one), a
// person known by an address alone is looked for in the rows the index
// selects, which hold the address written in any form Find knows
// (obfuscated, upper-cased, with a Kelvin sign); a person with a name or a
// phone number, whose accented and grouped forms no index finds, in every
// row. Either way the plan counts what a scan without the index counts,
// the erasure replaces it all, and verification reads every row, so a
// mention put back is found.
func TestMentionsPrefilter(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			e := setupMentions(t, d)
			testkit.Exec(t, e.app, `INSERT INTO users (id, email) VALUES (4, 'katherine.johnson@example.com')`)
			for id, text := range map[int64]string{
				220: "write to katherine.johnson [at] example [dot] com",
				221: "or \u212Aatherine.JOHNSON@example.com",
				222: "ADA lovelac\u00e9 phoned from 020 79 46 09 58",
			} {
				testkit.Exec(t, e.app, `INSERT INTO messages (id, chat_id, body) VALUES (?, 20, ?)`, id, messageBody(20, text))
			}
			rc := &readCounter{Store: e.app}
			e.eng.Stores = map[string]connector.Store{"app": rc}
			kate := map[string]string{"email": "katherine.johnson@example.com"}
			ada := map[string]string{"email": "ada@example.com", "phone": "+442079460958"}
			plainKate, err := e.eng.PlanIdentities(ctx, kate, "")
			if err != nil {
				t.Fatal(err)
			}
			read := rc.rows
			plainAda, err := e.eng.PlanIdentities(ctx, ada, "")
			if err != nil {
				t.Fatal(err)
			}
			if plainKate.Mentions[1].Count != 2 || plainAda.Mentions[1].Count != 9 {
				t.Fatalf("mentions without an index: %+v, %+v", plainKate.Mentions, plainAda.Mentions)
			}
			want := map[string]string{registry.DriverPostgres: engine.IndexTrigram, registry.DriverMySQL: engine.IndexFulltext}[d]
			switch d {
			case registry.DriverPostgres:
				testkit.Exec(t, e.app, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
				testkit.Exec(t, e.app, `CREATE INDEX messages_body_trgm ON messages USING gin (body public.gin_trgm_ops)`)
			case registry.DriverMySQL:
				testkit.Exec(t, e.app, `ALTER TABLE messages ADD FULLTEXT INDEX messages_body_ft (body)`)
			}
			if kind, err := e.app.MentionIndex(ctx, e.reg.Collections["app.messages"], "body"); err != nil || kind != want {
				t.Fatalf("MentionIndex = %q, %v; want %q", kind, err, want)
			}
			rc.rows = 0
			indexedKate, err := e.eng.PlanIdentities(ctx, kate, "")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(indexedKate.Mentions) != fmt.Sprint(plainKate.Mentions) {
				t.Errorf("Katherine's mentions with the index %+v, without %+v", indexedKate.Mentions, plainKate.Mentions)
			}
			if want != "" && rc.rows >= read {
				t.Errorf("rows read for Katherine with the index %d, without %d", rc.rows, read)
			}
			indexedAda, err := e.eng.PlanIdentities(ctx, ada, "")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(indexedAda.Mentions) != fmt.Sprint(plainAda.Mentions) {
				t.Errorf("Ada's mentions with the index %+v, without %+v", indexedAda.Mentions, plainAda.Mentions)
			}

			for _, req := range []*dsr.Request{
				{ID: "r-kate", Type: dsr.TypeErasure, Email: "katherine.johnson@example.com"},
				adaErasure(""),
			} {
				j := newJournal()
				out, err := e.eng.Execute(ctx, req, j)
				if err != nil {
					t.Fatal(err)
				}
				if !out.Verification.Passed {
					t.Errorf("%s: verification %+v", req.ID, out.Verification)
				}
				// Verification reads every row: a mention put back is found
				// however it is written.
				back := map[string]string{"r-kate": "katherine.johnson (at) example.com", "r-ada": "Jos\u00e9 met ada lovel\u00e1ce"}[req.ID]
				testkit.Exec(t, e.app, `UPDATE messages SET body = ? WHERE id = 201`, messageBody(20, back))
				rc.filtered = 0
				again, err := e.eng.Execute(ctx, req, j)
				if err != nil {
					t.Fatal(err)
				}
				if again.Verification.Passed || again.Verification.Found["mentions:app.messages"] != 1 || rc.filtered != 0 {
					t.Errorf("%s: verification with a mention put back: %+v, %d rows read through the index", req.ID, again.Verification, rc.filtered)
				}
			}
			for _, r := range dumpRows(t, e.app, "SELECT body FROM messages WHERE id IN (220, 221, 222)") {
				if b := strings.ToLower(r[0]); strings.Contains(b, "johnson") || strings.Contains(b, "lovelac") || strings.Contains(b, "09 58") {
					t.Errorf("a mention is left: %s", r[0])
				}
			}
		})
	}
}

// packageWriter is an Exporter that writes the real access package into
// memory.
type packageWriter struct{ zip bytes.Buffer }

func (pw *packageWriter) Export(ctx context.Context, req *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	_, err := export.Write(ctx, &pw.zip, export.PackageInfo{RequestID: req.ID, Email: req.Email, SpoolDir: os.TempDir()}, a)
	return &engine.ExportResult{Object: "memory"}, err
}

// TestDemoAccessPackageMentions: Ada's package holds mentions.json with
// Grace's sentence that names her, report.html says what the file is, and
// no entry carries another person's address in clear.
func TestDemoAccessPackageMentions(t *testing.T) {
	ctx := context.Background()
	pw := &packageWriter{}
	eng, _, _ := demoEngine(t)
	eng.Exporter = pw
	req := &dsr.Request{ID: "r-access", Type: dsr.TypeAccess, Email: "ada@example.com"}
	if _, err := eng.Execute(ctx, req, newJournal()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(pw.zip.Bytes()), int64(pw.zip.Len()))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		entries[f.Name] = string(b)
	}
	var got []engine.MentionExcerpt
	if err := json.Unmarshal([]byte(entries["mentions.json"]), &got); err != nil {
		t.Fatalf("mentions.json: %v\n%s", err, entries["mentions.json"])
	}
	want := []engine.MentionExcerpt{{Collection: "app.messages", Field: "body.parts[*].text",
		Sentence: "Ada Lovelace, who mentored me, says I should learn to delegate."}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mentions.json = %+v, want %+v", got, want)
	}
	if !strings.Contains(entries["report.html"], "mentions.json") {
		t.Error("report.html does not say what mentions.json is")
	}
	for name, body := range entries {
		for _, other := range []string{"grace@example.com", "alan@example.com", "katherine@example.com", "202 555 0142", "07700 900123"} {
			if strings.Contains(body, other) {
				t.Errorf("%s carries %s", name, other)
			}
		}
	}
}

// demoEngine seeds the demo and returns an engine over it with
// pseudonyms, its application store and its keyring.
func demoEngine(t *testing.T) (*engine.Engine, *sqlstore.Store, *redact.Keyring) {
	t.Helper()
	app := testkit.SeedDemo(t, t.TempDir())
	keys, err := redact.NewKeyring([]byte("a redaction secret for tests"))
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(app.Registry, app.Stores.Engine(), dsr.NewSubjectHasher([]byte("k")))
	eng.Blobs, eng.Redactors = app.Blobs.Engine(), keys
	return eng, app.Stores.Engine()["app"].(*sqlstore.Store), keys
}

// TestErasureMentionsFailKeepsOwnRows: an erasure whose mentions step
// fails for good (a title column too short for the pseudonym) has not yet
// touched Ada's own rows, so a new request, once the title is shortened,
// finds her name again and replaces it.
func TestErasureMentionsFailKeepsOwnRows(t *testing.T) {
	for _, d := range []string{registry.DriverPostgres, registry.DriverMySQL} { // SQLite keeps any length
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			e := setupMentions(t, d)
			alter := map[string]string{registry.DriverPostgres: `ALTER TABLE chats ALTER COLUMN title TYPE VARCHAR(%d)`,
				registry.DriverMySQL: `ALTER TABLE chats MODIFY title VARCHAR(%d)`}[d]
			testkit.Exec(t, e.app, fmt.Sprintf(alter, len("Talk with Ada Lovelace")))
			before := e.dump(t)
			if _, err := e.eng.Execute(ctx, adaErasure(""), newJournal()); err == nil {
				t.Fatal("the erasure succeeded with a title too short for the pseudonym")
			}
			after := e.dump(t)
			for table, id := range map[string]string{"users": "1", "chats": "10", "messages": "100"} {
				if after[table][id] != before[table][id] {
					t.Errorf("%s %s after the failed erasure: %q, want %q", table, id, after[table][id], before[table][id])
				}
			}
			testkit.Exec(t, e.app, `UPDATE chats SET title = 'Ada Lovelace' WHERE id = 20`)
			out, err := e.eng.Execute(ctx, adaErasure(""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if m := out.Details["mentions"]; !out.Verification.Passed || fmt.Sprint(m) != fmt.Sprint(map[string]int64{"app.chats": 1, "app.messages": 7}) {
				t.Errorf("the new erasure: verification %+v, mentions replaced %v", out.Verification, m)
			}
			title := dumpRows(t, e.app, "SELECT title FROM chats WHERE id = 20")[0][0]
			if want := strconv.Quote(e.keys.For("acme").Pseudonym(redact.Name, "Ada Lovelace")); title != want {
				t.Errorf("chat 20's title = %s, want %s", title, want)
			}
		})
	}
}
