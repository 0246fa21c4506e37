package mongostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRewriteKeepsAConcurrentEdit: a message its author edits between the
// redact action's read and its write keeps the author's text, is not
// counted, and is redacted by the next run; the other messages are
// redacted at once.
func TestRewriteKeepsAConcurrentEdit(t *testing.T) {
	ctx := context.Background()
	app, reg := testkit.OpenMongo(t, `
stores:
  app: {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
collections:
  app.messages:
    identity: {email: email}
    tenant: studio
    categories: {text: user.content.chat, content: user.content.chat}
    json: {content: ["[*].text"]}
    retention: {window: 365d, timestamp: createdAt, redact_after: 2d}
    erasure: delete
`)
	msgs := app.Database().Collection("messages")
	old := time.Now().UTC().Add(-10 * 24 * time.Hour)
	for _, id := range []string{"m1", "m2", "m3"} {
		if _, err := msgs.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "studio", Value: "acme"},
			{Key: "text", Value: id + ": write to grace@example.com"},
			{Key: "content", Value: bson.A{bson.D{{Key: "type", Value: "text"}, {Key: "text", Value: "or grace@example.com"}}}},
			{Key: "createdAt", Value: old}}); err != nil {
			t.Fatal(err)
		}
	}
	c := reg.Collections["app.messages"]
	sel := connector.Selection{Collection: c, All: true, Older: &connector.Older{Column: "createdAt", Before: time.Now()}}
	const edited = "Edited: reach me at ada@example.com"
	editing := true
	rw := retention.Rewrite{Columns: []string{"content", "text"}, Edit: func(tenant, col, text string) (string, bool, error) {
		if editing && col == "text" && strings.HasPrefix(text, "m2:") {
			// m2 is read; its author edits it before the action writes.
			editing = false
			if _, err := msgs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "m2"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "text", Value: edited}}}}); err != nil {
				return "", false, err
			}
		}
		out := strings.NewReplacer("grace@example.com", "<email>", "ada@example.com", "<email>").Replace(text)
		return out, out != text, nil
	}}
	text := func(id string) string {
		var doc struct{ Text string }
		if err := msgs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc.Text
	}
	read, changed, _, err := app.Rewrite(ctx, sel, rw, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if read != 3 || changed != 2 {
		t.Errorf("first run read %d and changed %d messages; want 3 and 2 (m2 edited meanwhile)", read, changed)
	}
	if got := text("m2"); got != edited {
		t.Errorf("m2's edit was overwritten: %q", got)
	}
	if got := text("m1") + "|" + text("m3"); got != "m1: write to <email>|m3: write to <email>" {
		t.Errorf("m1 and m3 not redacted: %q", got)
	}
	if _, changed, _, err = app.Rewrite(ctx, sel, rw, nil, 10); err != nil || changed != 1 {
		t.Errorf("second run changed %d messages (%v); want m2's", changed, err)
	}
	if got := text("m2"); got != "Edited: reach me at <email>" {
		t.Errorf("the next run did not redact m2: %q", got)
	}
}
