package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// mongoKillRegistry is a chat application in MongoDB: an erasure
// anonymises the person's messages (kept for the others in the
// conversation), deletes her sessions, then her account.
const mongoKillRegistry = `
stores:
  chat: {kind: mongo, uri_env: CHAT_MONGO_URI, database: %s}
collections:
  chat.users:
    identity: {email: email}
    categories: {email: user.contact.email, name: user.name}
    erasure: delete
  chat.messages:
    references: {user: users._id}
    categories: {text: user.content.chat}
    erasure: {anonymize: {text: "fixed:[erased]", user: "null"}}
  chat.sessions:
    references: {user: users._id}
    erasure: delete
`

// mongoKillMessages is how many messages the person wrote.
const mongoKillMessages = 300

// seedMongoChat writes the same documents, with the same ids, into a new
// database: Ada's and Bob's accounts, Ada's many messages, a few of Bob's,
// and a session each.
func seedMongoChat(t *testing.T) (db *mongo.Database, database string) {
	t.Helper()
	ctx := context.Background()
	uri, database := testdb.Mongo(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	db = client.Database(database)
	oid := func(kind byte, n int) bson.ObjectID {
		var id bson.ObjectID
		id[0], id[8], id[9], id[10], id[11] = kind, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return id
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	people := []string{"ada@example.com", "bob@example.com"}
	for i, email := range people {
		uid := oid('u', i)
		if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: uid}, {Key: "email", Value: email}, {Key: "name", Value: fmt.Sprintf("User %d", i)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Collection("sessions").InsertOne(ctx, bson.D{{Key: "_id", Value: oid('s', i)}, {Key: "user", Value: uid}, {Key: "expiration", Value: at}}); err != nil {
			t.Fatal(err)
		}
		n := 10
		if i == 0 {
			n = mongoKillMessages
		}
		msgs := make([]any, n)
		for k := range n {
			msgs[k] = bson.D{{Key: "_id", Value: oid(byte('m'+i), k)}, {Key: "user", Value: uid.Hex()}, {Key: "conversationId", Value: fmt.Sprintf("c-%d-%d", i, k%7)},
				{Key: "text", Value: fmt.Sprintf("message %d from %s", k, email)}, {Key: "tokenCount", Value: int32(k)}, {Key: "createdAt", Value: at.Add(time.Duration(k) * time.Second)}}
		}
		if _, err := db.Collection("messages").InsertMany(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	for _, idx := range []struct{ coll, field string }{{"users", "email"}, {"messages", "user"}, {"sessions", "user"}} {
		if _, err := db.Collection(idx.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: idx.field, Value: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	return db, database
}

// mongoApp is a lethe serve setup over database on the test's MongoDB-wire server.
func mongoApp(t *testing.T, database, stateURL string) *app {
	t.Helper()
	a := &app{dir: t.TempDir()}
	a.registry = filepath.Join(a.dir, "lethe.yaml")
	if err := os.WriteFile(a.registry, fmt.Appendf(nil, mongoKillRegistry, database), 0o600); err != nil {
		t.Fatal(err)
	}
	a.env = append(withoutLetheEnv(), "LETHE_DATABASE_URL="+stateURL, "LETHE_CONFIG="+a.registry,
		"LETHE_SUBJECT_KEY=lifeline-test-subject-key-of-32-characters", "LETHE_ADMIN_TOKEN="+lifelineAdminToken,
		"LETHE_HEARTBEAT="+testHeartbeat, "CHAT_MONGO_URI="+testdb.MongoURI())
	return a
}

// dumpMongo returns every document of db's collections as canonical
// Extended JSON, in _id order, by collection.
func dumpMongo(t *testing.T, db *mongo.Database) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, coll := range []string{"users", "messages", "sessions"} {
		out[coll] = testkit.MongoDocs(t, db.Collection(coll))
	}
	return out
}

// TestKilledServeResumesMongoErasure kills (SIGKILL) the lethe serve
// erasing a person from a mongo store once her messages are being
// anonymised and before her account is deleted, restarts it, and checks
// that the request resumes from its journal (a second attempt) and ends in
// exactly the uninterrupted result: the same documents, compared whole
// with the database of an uninterrupted run seeded alike, and a verifying
// audit chain.
func TestKilledServeResumesMongoErasure(t *testing.T) {
	const subject = "ada@example.com"
	ctx := context.Background()

	refDB, refName := seedMongoChat(t)
	ref := mongoApp(t, refName, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
	refServe := ref.serve(t)
	want := refServe.waitEnded(t, refServe.fileErasure(t, subject), 3*time.Minute)
	if want.Status != "completed" || want.Counts["chat.messages"] != mongoKillMessages || want.Counts["chat.users"] != 1 {
		t.Fatalf("uninterrupted erasure ended %+v; want completed with the account and %d messages", want, mongoKillMessages)
	}
	kill(t, refServe)
	wantDocs := dumpMongo(t, refDB)

	db, name := seedMongoChat(t)
	a := mongoApp(t, name, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
	first := a.serve(t)
	id := first.fileErasure(t, subject)
	erased := bson.D{{Key: "text", Value: "[erased]"}}
	var done int64
	testkit.Eventually(t, 2*time.Minute, "messages anonymised, the account not yet deleted", func() error {
		var err error
		if done, err = db.Collection("messages").CountDocuments(ctx, erased); err != nil {
			return err
		}
		account, err := db.Collection("users").CountDocuments(ctx, bson.D{{Key: "email", Value: subject}})
		if err != nil {
			return err
		}
		if done == 0 || account == 0 {
			return fmt.Errorf("%d of %d messages anonymised, %d account", done, mongoKillMessages, account)
		}
		return nil
	})
	killed := kill(t, first)
	r := a.serve(t).waitEnded(t, id, 3*time.Minute)
	t.Logf("killed after %d of %d messages; resumed and completed %s after the kill", done, mongoKillMessages, time.Since(killed).Round(time.Millisecond))
	if r.Status != "completed" || r.Attempts != 2 {
		t.Errorf("request ended %s after %d attempts; want completed after 2 (the killed one and the resumed one)", r.Status, r.Attempts)
	}
	// Counts come from the journal. MongoDB has no transaction over a
	// batch, and documents the killed attempt had already rewritten no
	// longer match; each batch was journaled before its write, so the
	// resumed attempt counts it once and the counts are exact.
	if !maps.Equal(r.Counts, want.Counts) {
		t.Errorf("counts %v; want %v, as uninterrupted", r.Counts, want.Counts)
	}
	got := dumpMongo(t, db)
	for coll, docs := range wantDocs {
		if !slices.Equal(got[coll], docs) {
			t.Errorf("%s after the resumed erasure differs from the uninterrupted one: %d documents, want %d", coll, len(got[coll]), len(docs))
			for i := range min(len(got[coll]), len(docs)) {
				if got[coll][i] != docs[i] {
					t.Errorf("first difference:\n got %s\nwant %s", got[coll][i], docs[i])
					break
				}
			}
		}
	}
	cmd := exec.Command(binary, "audit", "verify")
	cmd.Env = a.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("lethe audit verify: %v\n%s", err, out)
	}
}
