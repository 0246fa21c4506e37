package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// TestConfigCheckMongo: config check on a registry with a mongo store lists
// each collection's indexes, prints the createIndex to run for a reference
// field no index leads (and none for an indexed one), and fails naming a
// collection that does not exist.
func TestConfigCheckMongo(t *testing.T) {
	ctx := context.Background()
	uri, database := testdb.Mongo(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database(database)
	if _, err := db.Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName("email_1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("tokens").InsertOne(ctx, bson.D{{Key: "userId", Value: bson.NewObjectID()}}); err != nil {
		t.Fatal(err)
	}
	reg := fmt.Sprintf(`stores:
  chat: {kind: mongo, uri_env: CHAT_URI, database: %s}
collections:
  chat.users:
    identity: {email: email}
    erasure: delete
  chat.tokens:
    references: {userId: users._id}
    erasure: delete
`, database)
	path := filepath.Join(t.TempDir(), "lethe.yaml")
	if err := os.WriteFile(path, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, map[string]string{"CHAT_URI": uri}, "config", "check", "--config", path)
	if code != 0 {
		t.Fatalf("config check: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`collections.chat.users: indexes _id_ (_id), email_1 (email)`,
		`collections.chat.tokens.references.userId: warning: reference field "userId" of collection "tokens" has no index: erasure would scan the collection; run: db.getCollection("tokens").createIndex({"userId": 1})`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `createIndex({"email"`) {
		t.Errorf("config check asks for an index on the indexed email:\n%s", out)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(reg, "chat.tokens:", "chat.tokenz:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runCLI(t, map[string]string{"CHAT_URI": uri}, "config", "check", "--config", path); code != 1 || !strings.Contains(out, `collection "tokenz" does not exist`) {
		t.Errorf("config check of a missing collection: exit %d\n%s", code, out)
	}
}
