package mongostore_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestTenantThroughParent: documents of a collection with no tenant field
// (messages of a chat) are counted by Tally, returned by Purge and counted
// by AnonymizeTally under their chat's studio; one whose chat is gone
// under none.
func TestTenantThroughParent(t *testing.T) {
	app, reg := testkit.OpenMongo(t, `
stores:
  app:   {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
  files: {kind: blob, url: "mem://"}
collections:
  app.chats:
    identity: {email: email}
    tenant: studio
    erasure: delete
  app.messages:
    references: {chat: chats._id}
    files: {key: files}
    retention: {window: 1d, timestamp: createdAt}
    erasure: {anonymize: {text: "null"}}
`)
	ctx := context.Background()
	db := app.Database()
	for id, studio := range map[string]string{"c1": "acme", "c2": "acme", "c3": "globex"} {
		if _, err := db.Collection("chats").InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "studio", Value: studio}}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().UTC().Add(-10 * 24 * time.Hour)
	for i, chat := range []string{"c1", "c1", "c2", "c3", "gone"} {
		if _, err := db.Collection("messages").InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("m", i)},
			{Key: "chat", Value: chat}, {Key: "key", Value: "f/" + chat}, {Key: "text", Value: "hi"}, {Key: "createdAt", Value: old}}); err != nil {
			t.Fatal(err)
		}
	}
	messages := reg.Collections["app.messages"]
	via := []retention.TenantHop{{Column: "chat", Parent: reg.Collections["app.chats"], ParentColumn: "_id"}}
	sel := connector.Selection{Collection: messages, All: true, Older: &connector.Older{Column: "createdAt", Before: time.Now()}}
	want := map[string]int64{"acme": 3, "globex": 1, "<nil>": 1}

	gs, err := app.Tally(ctx, []retention.Tally{{Sel: sel, Via: via, Files: []string{"key"}}})
	if err != nil {
		t.Fatal(err)
	}
	tallied, files := map[string]int64{}, map[string]int64{}
	for _, g := range gs[0] {
		tallied[fmt.Sprint(g.Value)] += g.Rows
		files[fmt.Sprint(g.Value)] += g.Files
	}
	if !maps.Equal(tallied, want) || !maps.Equal(files, want) {
		t.Errorf("tally through the chat: documents %v, files %v; want %v", tallied, files, want)
	}

	anon, _, err := app.AnonymizeTally(ctx, retention.Tally{Sel: sel, Via: via}, connector.Anonymization{Set: map[string]*string{"text": nil}}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	anonymised := map[string]int64{}
	for _, g := range anon {
		anonymised[fmt.Sprint(g.Value)] += g.Rows
	}
	if !maps.Equal(anonymised, want) {
		t.Errorf("anonymised through the chat %v; want %v", anonymised, want)
	}

	n, vals, err := app.Purge(ctx, sel, []string{"key"}, via, 10)
	if err != nil || n != 5 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	purged := map[string]int64{}
	for _, v := range vals {
		if len(v) != 2 {
			t.Fatalf("purge returned %v; want the key and the tenant", v)
		}
		purged[fmt.Sprint(v[1])]++
	}
	if !maps.Equal(purged, want) {
		t.Errorf("purged through the chat %v; want %v", purged, want)
	}
}
