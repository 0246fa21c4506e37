package registry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// chatsRule is valid's app.chats retention rule, which the cases rewrite.
const chatsRule = "retention: {window: 30d, timestamp: created_at}\n    erasure: delete\n  app.messages"

func TestRedactAfter(t *testing.T) {
	src := strings.Replace(valid, "json: {body: [\"author.email\", \"parts[*].text\"]}",
		"json: {body: [\"author.email\", \"parts[*].text\"]}\n    categories: {body: user.content.chat, note: user.content.chat}\n    retention: {window: 90d, timestamp: created_at, redact_after: 7d}", 1)
	src = strings.Replace(src, chatsRule,
		"categories: {title: user.content.chat}\n    retention: {window: 30d, timestamp: created_at, redact_after: 1w, redact: [title]}\n    erasure: delete\n  app.messages", 1)
	r, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	msgs := r.Collections["app.messages"].Retention
	if msgs.RedactAfter != 7*24*time.Hour || msgs.Window != 90*24*time.Hour {
		t.Fatalf("messages rule = %+v", msgs)
	}
	var names []string
	for _, f := range msgs.Redact {
		names = append(names, f.Name())
	}
	// The declared JSON paths and the other categorised column; body is a
	// JSON column, so not rewritten whole.
	if got := strings.Join(names, ","); got != "body.author.email,body.parts[*].text,note" {
		t.Errorf("default redaction = %s", got)
	}
	chats := r.Collections["app.chats"].Retention
	if len(chats.Redact) != 1 || chats.Redact[0].Name() != "title" || chats.RedactAfter != 7*24*time.Hour {
		t.Errorf("chats rule = %+v", chats)
	}
	again, err := registry.Parse(r.Marshal())
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, r.Marshal())
	}
	if again.Version() != r.Version() || len(again.Collections["app.messages"].Retention.Redact) != 3 {
		t.Errorf("canonical form lost the redaction: %s", r.Marshal())
	}
	plain, _ := registry.Parse([]byte(valid))
	if plain.Version() == r.Version() {
		t.Error("redact_after did not change the version")
	}
}

func TestRedactAfterProblems(t *testing.T) {
	for _, tc := range []struct{ name, rule, want string }{
		{"not shorter", "{window: 30d, timestamp: created_at, redact_after: 30d, redact: [title]}",
			`collections.app.chats.retention.redact_after: 30d is not shorter than the window 30d`},
		{"bad window", "{window: 30d, timestamp: created_at, redact_after: soon, redact: [title]}",
			`collections.app.chats.retention.redact_after: window "soon"`},
		{"never", "{window: 30d, timestamp: created_at, redact_after: never}",
			`collections.app.chats.retention.redact_after: never redacts nothing`},
		{"redact without after", "{window: 30d, timestamp: created_at, redact: [title]}",
			`collections.app.chats.retention.redact: redact lists what redact_after rewrites`},
		{"reference", "{window: 30d, timestamp: created_at, redact_after: 7d, redact: [user_id]}",
			`collections.app.chats.retention.redact.0: "user_id" is a reference`},
		{"tenant", "{window: 30d, timestamp: created_at, redact_after: 7d, redact: [title, studio_id]}",
			`collections.app.chats.retention.redact.1: "studio_id" is the tenant column`},
		{"timestamp", "{window: 30d, timestamp: created_at, redact_after: 7d, redact: [created_at]}",
			`collections.app.chats.retention.redact.0: "created_at" is the retention timestamp`},
		{"not json", "{window: 30d, timestamp: created_at, redact_after: 7d, redact: [title.text]}",
			`collections.app.chats.retention.redact.0: "title" is not a JSON column`},
		{"nothing", "{window: 30d, timestamp: created_at, redact_after: 7d}",
			`collections.app.chats.retention.redact: nothing to redact`},
		{"never window needs timestamp", "{window: never, redact_after: 7d, redact: [title]}",
			`collections.app.chats.retention.timestamp: required with redact_after`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, chatsRule, "retention: "+tc.rule+"\n    erasure: delete\n  app.messages", 1)
			if src == valid {
				t.Fatal("chats rule not found in valid")
			}
			_, err := registry.Parse([]byte(src))
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err =\n%v\nwant a *ValidationError containing %q", err, tc.want)
			}
		})
	}
}

func TestResponsesNeedATenant(t *testing.T) {
	src := strings.Replace(valid, "    purpose: invoicing\n", "    purpose: invoicing\n    responses: true\n", 1)
	_, err := registry.Parse([]byte(src))
	if err == nil || !strings.Contains(err.Error(), "collections.billing.customers.responses: the collection has no tenant column") {
		t.Fatalf("err = %v", err)
	}
	r, err := registry.Parse([]byte(strings.Replace(valid, "    references: {chat_id: app.chats.id}\n", "    references: {chat_id: app.chats.id}\n    responses: true\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range r.ResponseCollections() {
		keys = append(keys, c.Key)
	}
	if got := strings.Join(keys, ","); got != "app.messages,app.chats" {
		t.Errorf("responses, children first = %s", got)
	}
}

// TestRedactBareJSONColumn: naming a JSON column in redact without a path
// is refused, with the paths to list instead: redacting a document as text
// writes invalid JSON.
func TestRedactBareJSONColumn(t *testing.T) {
	src := strings.Replace(valid, "json: {body: [\"author.email\", \"parts[*].text\"]}",
		"json: {body: [\"author.email\", \"parts[*].text\"]}\n    retention: {window: 90d, timestamp: created_at, redact_after: 7d, redact: [note, body]}", 1)
	_, err := registry.Parse([]byte(src))
	var ve *registry.ValidationError
	want := "collections.app.messages.retention.redact.1: body is a JSON column: list paths inside it, such as body.author.email"
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err =\n%v\nwant a *ValidationError containing %q", err, want)
	}
	ok := strings.Replace(src, "redact: [note, body]", "redact: [note, body.author.email]", 1)
	if _, err := registry.Parse([]byte(ok)); err != nil {
		t.Fatalf("a path inside the JSON column: %v", err)
	}
}

// TestCollectResponsesAtRegistryLevel: collect_responses: false lets an
// application without tenants mark responses, provided they are dated.
func TestCollectResponsesAtRegistryLevel(t *testing.T) {
	src := strings.Replace(valid, "    purpose: invoicing\n", "    purpose: invoicing\n    responses: true\n", 1)
	_, err := registry.Parse([]byte("collect_responses: false\n" + src))
	if err == nil || !strings.Contains(err.Error(), "collections.billing.customers.responses: collect_responses: false purges the rows dated before each sweep") {
		t.Fatalf("undated responses: err = %v", err)
	}
	src = strings.Replace(src, "    purpose: invoicing\n", "    purpose: invoicing\n    retention: {window: never, timestamp: created_at}\n", 1)
	r, err := registry.Parse([]byte("collect_responses: false\n" + src))
	if err != nil {
		t.Fatal(err)
	}
	if r.CollectResponses {
		t.Error("CollectResponses = true")
	}
	again, err := registry.Parse(r.Marshal())
	if err != nil || again.CollectResponses || again.Version() != r.Version() {
		t.Errorf("canonical form lost collect_responses: %v", err)
	}
	if def, err := registry.Parse([]byte(valid)); err != nil || !def.CollectResponses {
		t.Errorf("default: %v, CollectResponses = %v", err, def != nil && def.CollectResponses)
	}
}
