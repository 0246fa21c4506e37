package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const sampleRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    references: {user_id: users.id}
    json: {chat: ["history.messages.*.content", "history.messages[*].content", "title"]}
    erasure: {anonymize: {"chat.history.messages.*.model": null}}
  app.notes:
    references: {user_id: users.id}
    json: {body: [text]}
    erasure: delete
`

// TestCheckLiveSamplesJSON: config check reads sampled rows of each JSON
// column and warns about a declared path that matches nothing (an array
// wildcard on a map keyed by ids), and about a column holding no JSON;
// the paths that match, in plain or twice-encoded documents, pass.
func TestCheckLiveSamplesJSON(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, d string) {
		var dsn string
		chatType := "TEXT"
		switch d {
		case registry.DriverPostgres:
			dsn, chatType = testdb.Postgres(t), "JSONB"
		case registry.DriverMySQL:
			dsn, chatType = testdb.MySQL(t), "JSON"
		default:
			dsn = testdb.SQLite(t)
		}
		s, err := sqlstore.Open("app", d, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, stmt := range []string{
			`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
			`CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT, chat ` + chatType + `)`,
			`CREATE TABLE notes (id BIGINT PRIMARY KEY, user_id BIGINT, body TEXT)`,
		} {
			if err := s.DB().Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
		doc := `{"title":"t","history":{"messages":{"a1":{"content":"hi","model":"m"},"b2":{"content":"yo"}}}}`
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO chats (id, user_id, chat) VALUES (1, 1, ?)`, []any{doc}},
			{`INSERT INTO chats (id, user_id, chat) VALUES (2, 1, NULL)`, nil},
			{`INSERT INTO notes (id, user_id, body) VALUES (1, 1, 'plain words, no JSON')`, nil},
		} {
			if err := s.DB().Exec(stmt.sql, stmt.args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		reg := testkit.Registry(t, sampleRegistry, d)
		warnings, err := reg.CheckLive(context.Background(), map[string]registry.SchemaReader{"app": s})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range warnings {
			if strings.Contains(w.Message, "sampled") {
				got = append(got, w.Path+": "+w.Message)
			}
		}
		all := strings.Join(got, "\n")
		if len(got) != 2 ||
			!strings.Contains(all, `collections.app.chats.json.chat: warning: path "history.messages[*].content" matches nothing in 1 sampled rows`) ||
			!strings.Contains(all, `collections.app.notes.json.body: warning: none of 1 sampled values of column "body" holds JSON`) {
			t.Errorf("sampling warnings =\n%s", all)
		}
		if strings.Contains(all, "plain words") || strings.Contains(all, `"hi"`) {
			t.Error("a warning quotes the data")
		}
	})
}
