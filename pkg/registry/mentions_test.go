package registry_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

func TestMentions(t *testing.T) {
	src := strings.Replace(valid, `json: {body: ["author.email", "parts[*].text"]}`,
		"json: {body: [\"author.email\", \"parts[*].text\"]}\n    mentions: [\"body.parts[*].text\", note]", 1)
	r, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Collections["app.messages"]
	var names []string
	for _, f := range c.Mentions {
		names = append(names, f.Name())
	}
	if got := strings.Join(names, ","); got != "body.parts[*].text,note" {
		t.Errorf("mentions = %s", got)
	}
	if got := strings.Join(c.MentionColumns(), ","); got != "body,note" {
		t.Errorf("mention columns = %s", got)
	}
	again, err := registry.Parse(r.Marshal())
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, r.Marshal())
	}
	if again.Version() != r.Version() || len(again.Collections["app.messages"].Mentions) != 2 {
		t.Errorf("canonical form lost the mentions: %s", r.Marshal())
	}
	if plain, _ := registry.Parse([]byte(valid)); plain.Version() == r.Version() {
		t.Error("mentions did not change the version")
	}
}

func TestMentionsProblems(t *testing.T) {
	for _, tc := range []struct{ name, list, want string }{
		{"json column whole", "[body]", `collections.app.messages.mentions.0: body is a JSON column: list paths inside it, such as body.author.email`},
		{"not json", "[note.text]", `collections.app.messages.mentions.0: "note" is not a JSON column`},
		{"reference", "[chat_id]", `collections.app.messages.mentions.0: "chat_id" is a reference`},
		{"twice", "[note, note]", `collections.app.messages.mentions.1: note is listed twice`},
		{"bad path", "[\"body.parts[\"]", `collections.app.messages.mentions.0:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, `json: {body: ["author.email", "parts[*].text"]}`,
				"json: {body: [\"author.email\", \"parts[*].text\"]}\n    mentions: "+tc.list, 1)
			_, err := registry.Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
