package registry_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// shapes is a registry with the shapes of real chat apps: uploads held as
// absolute paths, chats as JSON maps, shared channels, polymorphic grants.
const shapes = `
stores:
  app:     {kind: sql, driver: sqlite, dsn_env: APP_DSN}
  uploads: {kind: blob, url: "file:///app/backend/data/uploads", path_prefix: /app/backend/data/uploads, best_effort: true}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    references: {user_id: users.id}
    json: {chat: ["history.messages.*.content", "title"]}
    erasure: delete
  app.channels:
    references: {user_id: users.id}
    erasure: {anonymize: {user_id: null}}
  app.groups:
    references: {owner_id: users.id}
    erasure: {anonymize: {owner_id: "fixed:0"}}
  app.grants:
    references:
      principal_id: {ref: users.id, where: {principal_type: user}}
    erasure: delete
  app.files:
    references: {user_id: users.id}
    files: {path: uploads}
    erasure: delete
`

func TestShapes(t *testing.T) {
	r, err := registry.Parse([]byte(shapes))
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Stores["uploads"]; s.PathPrefix != "/app/backend/data/uploads/" || !s.BestEffort {
		t.Errorf("uploads = %+v, want path_prefix ending in / and best_effort", s)
	}
	g := r.Collections["app.grants"]
	ref := g.References[0]
	if ref.Target != "app.users" || ref.TargetColumn != "id" || !slices.Equal(ref.Where, []registry.Condition{{Column: "principal_type", Value: "user"}}) {
		t.Errorf("grants reference = %+v", ref)
	}
	if !slices.Contains(g.Columns(), "principal_type") {
		t.Errorf("the condition's column is not among the columns config check looks for: %v", g.Columns())
	}
	if got := ref.String(); got != "app.users.id where principal_type = user" {
		t.Errorf("String() = %q", got)
	}
	ch := r.Collections["app.channels"]
	if !ch.Detaches(ch.References[0]) || r.Collections["app.grants"].Detaches(ref) {
		t.Error("Detaches: channels detach their user_id, grants do not")
	}
	if f := r.Collections["app.groups"].Erasure.Fields[0]; f.Column != "owner_id" || f.Strategy != registry.StrategyFixed || f.Fixed != "0" {
		t.Errorf("groups field = %+v", f)
	}
	again, err := registry.Parse(r.Marshal())
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, r.Marshal())
	}
	if again.Version() != r.Version() || !slices.Equal(again.Collections["app.grants"].References[0].Where, ref.Where) {
		t.Errorf("canonical form lost the condition:\n%s", r.Marshal())
	}
	plain, err := registry.Parse([]byte(strings.Replace(shapes, "{ref: users.id, where: {principal_type: user}}", "{ref: users.id}", 1)))
	if err != nil || len(plain.Collections["app.grants"].References[0].Where) != 0 {
		t.Errorf("{ref: users.id} alone: %v", err)
	}
	other, _ := registry.Parse([]byte(strings.Replace(shapes, "principal_type: user", "principal_type: group", 1)))
	if other == nil || other.Version() == r.Version() {
		t.Error("a changed condition kept the version")
	}
}

func TestShapeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"condition on the reference itself", "where: {principal_type: user}", "where: {principal_id: user}",
			`collections.app.grants.references.principal_id.where.principal_id: the condition names the reference column itself`},
		{"empty condition", "where: {principal_type: user}", "where: {}", `collections.app.grants.references.principal_id.where: no condition`},
		{"unknown key", "where: {principal_type: user}", "when: {principal_type: user}", `reference: unknown key "when"`},
		{"null value", "where: {principal_type: user}", "where: {principal_type: null}", `where: principal_type: null: a condition compares the column with a value`},
		{"bad target", "{ref: users.id,", "{ref: users,", `"users" is not <store>.<collection>.<column>`},
		{"question mark", "principal_type: user", "\"principal?\": user", `"principal?" is not a usable column name`},
		{"hash a reference", "{user_id: null}", "{user_id: hmac}", `"user_id" is a reference: detach the rows with null or fixed:<value>`},
		{"path prefix escapes", "path_prefix: /app/backend/data/uploads", "path_prefix: /app/../etc", `stores.uploads.path_prefix: "/app/../etc" has a '.' or '..' segment`},
		{"path prefix on sql", "dsn_env: APP_DSN}", "dsn_env: APP_DSN, path_prefix: /x}", `stores.app.path_prefix: not used by a sql store`},
		{"star inside a key", `"history.messages.*.content"`, `"history.messages*.content"`, `"messages*" is not a key: write * alone`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(shapes, tc.old, tc.new, 1)
			if src == shapes {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := registry.Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err =\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestPathMapWildcard: * walks every value of an object (messages keyed by
// id) and every element of an array; a document stored as text inside the
// document, or the whole document encoded twice, is walked and written back
// as text.
func TestPathMapWildcard(t *testing.T) {
	doc := `{"history":{"messages":{"m2":{"content":"second"},"m1":{"content":"first","role":"user"}}},` +
		`"list":[{"content":"a"},{"content":"b"}],"meta":"{\"note\":{\"x\":{\"content\":\"inner\"}}}"}`
	for _, tc := range []struct {
		path  string
		found []string
	}{
		{"history.messages.*.content", []string{"first", "second"}},
		{"list.*.content", []string{"a", "b"}},
		{"list[*].content", []string{"a", "b"}},
		{"history.messages[*].content", nil}, // [*] is for arrays: an object has no elements
		{"meta.note.*.content", []string{"inner"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p, err := registry.ParsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := registry.DecodeDocument(doc)
			var got []string
			for _, v := range p.Find(d) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, tc.found) {
				t.Errorf("Find = %v, want %v", got, tc.found)
			}
			out, n := p.Rewrite(d, func(any) any { return "X" })
			if n != len(tc.found) {
				t.Errorf("Rewrite replaced %d, want %d", n, len(tc.found))
			}
			enc, _ := registry.EncodeDocument(out)
			for _, f := range tc.found {
				if strings.Contains(enc, `"`+f+`"`) || strings.Contains(enc, `\"`+f+`\"`) {
					t.Errorf("%q is still in %s", f, enc)
				}
			}
		})
	}
	// Encoded twice: the column holds a JSON string whose text is the document.
	twice, _ := json.Marshal(doc)
	d, err := registry.DecodeDocument(string(twice))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := registry.ParsePath("history.messages.*.content")
	out, n := p.Rewrite(d, func(any) any { return nil })
	s, ok := out.(string)
	if n != 2 || !ok || strings.Contains(s, "first") || !strings.Contains(s, `"role":"user"`) {
		t.Errorf("double-encoded rewrite = %d %#v", n, out)
	}
}
