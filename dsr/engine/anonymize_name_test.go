package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// pseudonymRegistry anonymises profiles with the redact strategy: the
// columns and JSON path declared user.name or user.contact.email get
// pseudonyms, the undeclared note gets [redacted].
const pseudonymRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.profiles:
    references: {user_id: users.id}
    json: {doc: ["author.name", "author.email"]}
    categories: {display_name: user.name, note: user.content.note, doc.author.name: user.name, doc.author.email: user.contact.email}
    erasure: {anonymize: {display_name: redact, note: redact, doc.author.name: redact, doc.author.email: redact}}
`

// TestAnonymiseDeclaredNamesPseudonymised: an erasure writes the
// pseudonym of a declared name or address where the redact strategy
// applies, [redacted] elsewhere, leaves the other keys of the document and
// Grace's row alone, and passes verification.
func TestAnonymiseDeclaredNamesPseudonymised(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			reg := testkit.Registry(t, pseudonymRegistry, d)
			app := testkit.OpenStore(t, "app", d, []string{
				`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
				`CREATE TABLE profiles (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, display_name VARCHAR(255), note TEXT, doc TEXT)`,
			}...)
			testkit.Exec(t, app, `INSERT INTO users (id, email) VALUES (1, 'ada@example.com'), (2, 'grace@example.com')`)
			testkit.Exec(t, app, `INSERT INTO profiles (id, user_id, display_name, note, doc) VALUES (10, 1, ?, ?, ?), (20, 2, ?, ?, ?)`,
				"Ada Lovelace", "likes engines", `{"author":{"email":"ada@example.com","name":"Ada Lovelace"},"n":1}`,
				"Grace Hopper", "likes compilers", `{"author":{"email":"grace@example.com","name":"Grace Hopper"},"n":2}`)
			k, err := redact.NewKeyring([]byte("0123456789abcdef-engine"))
			if err != nil {
				t.Fatal(err)
			}
			eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("k")))
			eng.Redactors = k
			out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Errorf("verification = %+v", out.Verification)
			}
			r := k.For("")
			name, email := r.Pseudonym(redact.Name, "Ada Lovelace"), r.Pseudonym(redact.Email, "ada@example.com")
			want := fmt.Sprintf("%q", [][]string{
				{"10", name, registry.Redacted, `{"author":{"email":"` + email + `","name":"` + name + `"},"n":1}`},
				{"20", "Grace Hopper", "likes compilers", `{"author":{"email":"grace@example.com","name":"Grace Hopper"},"n":2}`},
			})
			if got := fmt.Sprint(dumpRows(t, app, `SELECT id, display_name, note, doc FROM profiles ORDER BY id`)); got != want {
				t.Errorf("profiles = %s\nwant       %s", got, want)
			}
		})
	}
}
