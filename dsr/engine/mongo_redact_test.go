package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const mongoRedactRegistry = `
stores:
  app: {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
collections:
  app.chats:
    identity: {email: email}
    tenant: studio
    erasure: delete
  app.messages:
    references: {chat: chats._id}
    categories: {sender: user.name, text: user.content.chat, content: user.content.chat, meta.author.name: user.name}
    json: {content: ["[*].text"], meta: ["author.name"]}
    retention: {window: 365d, timestamp: createdAt, redact_after: 2d}
    erasure: delete
`

// TestMongoRedactAfter runs the redact action on a mongo collection whose
// documents reach their tenant through the chat they belong to: in
// messages older than redact_after, a field or path declared as a name is
// replaced whole by the tenant's pseudonym, and addresses in free text
// (a string field, and text inside an array of documents) by theirs; every
// other field, BSON type and the field order stay as they were, newer
// messages are untouched, a number where text was declared is left alone,
// and a second sweep changes nothing.
func TestMongoRedactAfter(t *testing.T) {
	ctx := context.Background()
	app, reg := testkit.OpenMongo(t, mongoRedactRegistry)
	now := time.Now().UTC().Truncate(time.Millisecond)
	db := app.Database()
	for _, c := range []struct{ id, studio string }{{"c1", "acme"}, {"c2", "globex"}} {
		if _, err := db.Collection("chats").InsertOne(ctx, bson.D{{Key: "_id", Value: c.id}, {Key: "email", Value: "grace@example.com"}, {Key: "studio", Value: c.studio}}); err != nil {
			t.Fatal(err)
		}
	}
	message := func(id, chat string, age time.Duration) bson.D {
		return bson.D{{Key: "_id", Value: id}, {Key: "chat", Value: chat}, {Key: "sender", Value: "Grace Hopper"},
			{Key: "text", Value: "Write to grace@example.com tomorrow"},
			{Key: "content", Value: bson.A{
				bson.D{{Key: "type", Value: "text"}, {Key: "text", Value: "or GRACE@example.com"}},
				bson.D{{Key: "type", Value: "image"}, {Key: "width", Value: int32(640)}}}},
			{Key: "meta", Value: bson.D{{Key: "author", Value: bson.D{{Key: "name", Value: "Grace Hopper"}, {Key: "n", Value: int64(7)}}}}},
			{Key: "tokens", Value: int32(12)}, {Key: "createdAt", Value: now.Add(-age)}}
	}
	docs := []any{message("m1", "c1", 10*day), message("m2", "c2", 10*day), message("m3", "c1", time.Hour)}
	odd := message("m4", "c1", 10*day)
	odd[2].Value = int64(42) // a number where a name was declared
	docs = append(docs, odd)
	if _, err := db.Collection("messages").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, id := range []string{"m1", "m2", "m3", "m4"} {
		before[id] = docJSON(t, app, "messages", id)
	}
	keys, err := redact.NewKeyring([]byte("mongo-redact-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
	sw := sweeperFor(t, reg, map[string]retention.Store{"app": app}, eng, now)
	sw.Redactors, sw.BatchSize = keys, 1
	pseudonymised := func(doc, tenant string) string {
		r := keys.For(tenant)
		return strings.NewReplacer("Grace Hopper", r.Pseudonym(redact.Name, "Grace Hopper"),
			"grace@example.com", r.Pseudonym(redact.Email, "grace@example.com"),
			"GRACE@example.com", r.Pseudonym(redact.Email, "GRACE@example.com")).Replace(doc)
	}
	want := map[string]string{"m1": pseudonymised(before["m1"], "acme"), "m2": pseudonymised(before["m2"], "globex"),
		"m3": before["m3"], "m4": pseudonymised(before["m4"], "acme")}
	if want["m1"] == want["m2"] || strings.Contains(want["m1"], "grace@") {
		t.Fatal("the tenants' pseudonyms do not differ")
	}
	for i := range 2 {
		run, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		var redacted int64
		for _, c := range run.Counts {
			redacted += c.RowsRedacted
		}
		if wantN := []int64{3, 0}[i]; redacted != wantN {
			t.Errorf("sweep %d redacted %d messages, want %d", i+1, redacted, wantN)
		}
		for id, w := range want {
			if got := docJSON(t, app, "messages", id); got != w {
				t.Errorf("sweep %d: message %s =\n%s\nwant\n%s", i+1, id, got, w)
			}
		}
	}
}
