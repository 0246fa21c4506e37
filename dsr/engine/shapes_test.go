package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// shapesRegistry has the shapes of real chat apps: chats as JSON maps keyed
// by message id, channels and teams a person created but others use
// (detached, not deleted), and grants whose principal is a user or a group
// with ids from different tables.
const shapesRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    references: {user_id: users.id}
    json: {chat: ["history.messages.*.content"]}
    erasure: {anonymize: {"chat.history.messages.*.content": redact}}
  app.channels:
    references: {user_id: users.id}
    erasure: {anonymize: {user_id: null}}
  app.teams:
    references: {owner_id: users.id}
    erasure: {anonymize: {owner_id: "fixed:0"}}
  app.grants:
    references:
      principal_id: {ref: users.id, where: {principal_type: user}}
    erasure: delete
`

var shapesDDL = []string{
	`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
	`CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, chat TEXT)`,
	`CREATE TABLE channels (id BIGINT PRIMARY KEY, user_id BIGINT, name VARCHAR(64))`,
	`CREATE TABLE teams (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL, name VARCHAR(64))`,
	`CREATE TABLE grants (id BIGINT PRIMARY KEY, principal_type VARCHAR(16) NOT NULL, principal_id BIGINT NOT NULL, perm VARCHAR(16))`,
}

func chatDoc(who string) string {
	return fmt.Sprintf(`{"title":"t","history":{"currentId":"m2","messages":{"m1":{"content":"%[1]s secret one","role":"user"},"m2":{"content":"%[1]s secret two","role":"assistant","parentId":"m1"}}}}`, who)
}

type shapesEnv struct {
	app *sqlstore.Store
	eng *engine.Engine
}

// setupShapes seeds Ada (user 1) and Grace (user 2). Group 1 has the same
// id as Ada: its grant, and one whose type differs from "user" only in
// case, must stay.
func setupShapes(t *testing.T, driver string) *shapesEnv {
	t.Helper()
	reg, err := registry.Parse([]byte(fmt.Sprintf(shapesRegistry, driver)))
	if err != nil {
		t.Fatal(err)
	}
	e := &shapesEnv{app: testkit.OpenStore(t, "app", driver, shapesDDL...)}
	twice, _ := json.Marshal(chatDoc("ada"))
	for _, s := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'grace@example.com')`, nil},
		{`INSERT INTO chats (id, user_id, chat) VALUES (100, 1, ?), (101, 1, ?), (102, 2, ?)`, []any{chatDoc("ada"), string(twice), chatDoc("grace")}},
		{`INSERT INTO channels (id, user_id, name) VALUES (10, 1, 'general'), (11, 2, 'random')`, nil},
		{`INSERT INTO teams (id, owner_id, name) VALUES (20, 1, 'core'), (21, 2, 'ops')`, nil},
		{`INSERT INTO grants (id, principal_type, principal_id, perm) VALUES (1, 'user', 1, 'read'), (2, 'group', 1, 'write'), (3, 'User', 1, 'admin'), (4, 'user', 2, 'read')`, nil},
	} {
		testkit.Exec(t, e.app, s.sql, s.args...)
	}
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app}, dsr.NewSubjectHasher([]byte("k")))
	e.eng.RowBatch = 1
	return e
}

func (e *shapesEnv) rows(t *testing.T, q string) string {
	t.Helper()
	return fmt.Sprint(dumpRows(t, e.app, q))
}

// TestErasureShapes erases Ada on every dialect: her chats' messages in a
// map keyed by id are redacted (also in a document encoded twice, which
// stays encoded twice), her channel and team stay unlinked, her grant goes
// and the group's grants with her id stay; Grace's rows do not move.
func TestErasureShapes(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupShapes(t, d)
			p, err := e.eng.Plan(context.Background(), "ada@example.com", "")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"users": 1, "chats": 2, "channels": 1, "teams": 1, "grants": 1}
			for _, it := range p.Collections {
				if it.Count != want[it.Collection] {
					t.Errorf("plan %s = %d, want %d", it.Collection, it.Count, want[it.Collection])
				}
			}
			grace := e.rows(t, `SELECT id, user_id, chat FROM chats WHERE id = 102`) + e.rows(t, `SELECT * FROM channels WHERE id = 11`) +
				e.rows(t, `SELECT * FROM teams WHERE id = 21`)
			out, err := e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Errorf("verification = %+v: rows left unlinked are not left over", out.Verification)
			}
			if got := e.rows(t, `SELECT id, principal_type, principal_id FROM grants ORDER BY id`); got != `[["2" "group" "1"] ["3" "User" "1"] ["4" "user" "2"]]` {
				t.Errorf("grants = %s, want Ada's user grant gone and the group's and case-different ones kept", got)
			}
			if got := e.rows(t, `SELECT id, user_id, name FROM channels WHERE id = 10`); got != `[["10" NULL "general"]]` {
				t.Errorf("Ada's channel = %s, want it kept with user_id NULL", got)
			}
			if got := e.rows(t, `SELECT owner_id, name FROM teams WHERE id = 20`); got != `[["0" "core"]]` {
				t.Errorf("Ada's team = %s, want it kept with owner_id 0", got)
			}
			if n := e.rows(t, `SELECT id FROM users`); strings.Contains(n, `"1"`) {
				t.Errorf("users = %s", n)
			}
			if after := e.rows(t, `SELECT id, user_id, chat FROM chats WHERE id = 102`) + e.rows(t, `SELECT * FROM channels WHERE id = 11`) +
				e.rows(t, `SELECT * FROM teams WHERE id = 21`); after != grace {
				t.Errorf("Grace's rows changed:\n%s\n%s", grace, after)
			}
			for id, layers := range map[int]int{100: 1, 101: 2} {
				var raw string
				if err := e.app.DB().Raw(`SELECT chat FROM chats WHERE id = ?`, id).Row().Scan(&raw); err != nil {
					t.Fatal(err)
				}
				doc := any(raw)
				for range layers {
					s, ok := doc.(string)
					if !ok {
						t.Fatalf("chat %d is encoded fewer than %d times: %s", id, layers, raw)
					}
					if err := json.Unmarshal([]byte(s), &doc); err != nil {
						t.Fatalf("chat %d: %v: %s", id, err, raw)
					}
				}
				msgs := doc.(map[string]any)["history"].(map[string]any)["messages"].(map[string]any)
				for _, k := range []string{"m1", "m2"} {
					m := msgs[k].(map[string]any)
					if m["content"] != registry.Redacted || m["role"] == nil {
						t.Errorf("chat %d message %s = %v, want content redacted and the rest kept", id, k, m)
					}
				}
				if strings.Contains(raw, "secret") {
					t.Errorf("chat %d still holds the content: %s", id, raw)
				}
			}
		})
	}
}

// skipAnonymize is a connector bug: it claims to rewrite one collection's
// rows and never does. Verification must see the rows still linked.
type skipAnonymize struct {
	connector.Store
	collection string
}

func (s skipAnonymize) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
	if sel.Collection.Key == s.collection {
		return 0, "", nil
	}
	return s.Store.Anonymize(ctx, sel, a, after, limit, ahead)
}

// TestErasureDetachVerified: a channel still linked to the person after
// the erasure is left over, and fails verification naming the collection.
func TestErasureDetachVerified(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupShapes(t, d)
			e.eng.Stores["app"] = skipAnonymize{Store: e.app, collection: "app.channels"}
			out, err := e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if v := out.Verification; v.Passed || v.Found["app.channels"] != 1 {
				t.Errorf("verification = %+v, want app.channels: 1 still linked", v)
			}
		})
	}
}

// TestAccessShapes: in the access package, a chat held as text and one
// encoded twice are both JSON documents, not escaped strings, and the
// grants are those whose reference condition makes them Ada's.
func TestAccessShapes(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupShapes(t, d)
			_, plain, _ := accessPackage(t, e.eng, "req-shapes", "ada@example.com", "")
			zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
			if err != nil {
				t.Fatal(err)
			}
			f, err := zr.Open("data/app/chats.json")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(f)
			var rows []map[string]any
			if err := json.Unmarshal(b, &rows); err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 {
				t.Fatalf("chats = %s", b)
			}
			for _, r := range rows {
				doc, ok := r["chat"].(map[string]any)
				if !ok || doc["history"] == nil {
					t.Errorf("chat %v is %T, want a JSON object: %s", r["id"], r["chat"], b)
				}
			}
			// Only Ada's own grant: the group's with her id, and the one
			// whose type differs in case, are other people's.
			g, err := zr.Open("data/app/grants.json")
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := io.ReadAll(g)
			var grants []map[string]any
			if err := json.Unmarshal(gb, &grants); err != nil {
				t.Fatal(err)
			}
			if len(grants) != 1 || fmt.Sprint(grants[0]["id"]) != "1" || grants[0]["principal_type"] != "user" {
				t.Errorf("grants in Ada's package = %s, want only grant 1 (principal_type user)", gb)
			}
		})
	}
}
