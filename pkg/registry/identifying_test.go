package registry_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestIdentifyingCategories: user.name and user.contact.* identify a
// person without being declared; the identifying section marks the
// application's own categories; categories given to JSON paths reach the
// path; the canonical form keeps both.
func TestIdentifyingCategories(t *testing.T) {
	src := strings.Replace(valid, "json: {body: [\"author.email\", \"parts[*].text\"]}",
		"json: {body: [\"author.email\", \"author.name\", \"parts[*].text\"]}\n    categories: {body: user.content.chat, sender: hr.staff.name, body.author.name: user.name, body.author.email: user.contact.email}", 1) +
		"identifying: {hr.staff.*: name, crm.mobile: phone}\n"
	r, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for cat, want := range map[string]string{"user.name": "name", "user.contact.email": "email", "user.contact.phone": "phone",
		"user.contact.address.city": "contact", "hr.staff.name": "name", "crm.mobile": "phone", "user.content.chat": "", "crm.notes": ""} {
		if got := r.PseudonymKind(cat); got != want {
			t.Errorf("PseudonymKind(%s) = %q; want %q", cat, got, want)
		}
	}
	c := r.Collections["app.messages"]
	for name, want := range map[string]string{"body.author.name": "name", "body.author.email": "email", "sender": "name", "body": "", "body.parts[*].text": ""} {
		path := ""
		col, rest, _ := strings.Cut(name, ".")
		f := registry.Field{Column: col}
		if rest != "" {
			p, err := registry.ParsePath(rest)
			if err != nil {
				t.Fatal(err)
			}
			f.Path, path = p, rest
		}
		if got := c.PseudonymKind(f); got != want {
			t.Errorf("app.messages %s (path %q): kind %q; want %q", name, path, got, want)
		}
	}
	if _, ok := c.Categories["body.author.name"]; ok {
		t.Error("a JSON path's category is left among the column categories")
	}
	b := r.Marshal()
	again, err := registry.Parse(b)
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, b)
	}
	if again.Version() != r.Version() || again.Collections["app.messages"].PseudonymKind(registry.Field{Column: "sender"}) != "name" {
		t.Errorf("canonical form lost the identifying categories:\n%s", b)
	}
}

func TestIdentifyingProblems(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{"categories: {body.author.name: user.name}", `add "author.name" under json.body`},
		{"categories: {title.x: user.name}", `"title" is not a JSON column`},
	} {
		src := strings.Replace(valid, "json: {body: [\"author.email\", \"parts[*].text\"]}",
			"json: {body: [\"author.email\", \"parts[*].text\"]}\n    "+tc.edit, 1)
		if _, err := registry.Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.edit, err, tc.want)
		}
	}
	for _, tc := range []struct{ section, want string }{
		{"identifying: {Bad.Cat: name}", "is not a category"},
		{"identifying: {hr.staff: \"<x>\"}", "is not a pseudonym kind"},
	} {
		if _, err := registry.Parse([]byte(valid + tc.section + "\n")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.section, err, tc.want)
		}
	}
}
