package engine_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const mongoPathsRegistry = `
stores:
  app: {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
collections:
  app.profiles:
    identity: {email: email}
    tenant: studio
    json: {contact: ["emails[*]", "phones.*"], history: ["[*].note"]}
    categories: {email: user.contact.email, contact: user.contact, history: user.content.notes}
    erasure: {anonymize: {email: hmac, "contact.emails[*]": redact, "contact.phones.*": "null", "history[*].note": "fixed:gone"}}
  app.chats:
    tenant: studio
    references: {profile: profiles._id}
    responses: true
    erasure: delete
`

// TestMongoPathsAndTenant erases a person within one tenant of a mongo
// store: her profile there is anonymised inside its documents (an array,
// a map keyed by ids, an array of documents) with every other field and
// BSON type kept, her chats there (from either profile) are deleted, and
// her profile and chats in the other tenant, like everyone else's, are
// left as they were; then the responses sweep of a tenant that stopped
// collecting responses purges that tenant's chats only.
func TestMongoPathsAndTenant(t *testing.T) {
	ctx := context.Background()
	app, reg := testkit.OpenMongo(t, mongoPathsRegistry)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db := app.Database()
	for _, p := range []struct{ id, email, studio string }{{"p1", "Alice@Example.com", "acme"}, {"p2", "alice@example.com", "globex"}, {"p3", "bob@example.com", "acme"}} {
		profile := bson.D{{Key: "_id", Value: p.id}, {Key: "email", Value: p.email}, {Key: "studio", Value: p.studio},
			{Key: "contact", Value: bson.D{{Key: "emails", Value: bson.A{p.email, "work-" + p.email}},
				{Key: "phones", Value: bson.D{{Key: "home", Value: "+1 555 0100"}, {Key: "work", Value: "+1 555 0199"}}}}},
			{Key: "history", Value: bson.A{bson.D{{Key: "note", Value: "asked about " + p.email}, {Key: "at", Value: at}, {Key: "n", Value: int64(7)}}}},
			{Key: "visits", Value: int32(3)}}
		if _, err := db.Collection("profiles").InsertOne(ctx, profile); err != nil {
			t.Fatal(err)
		}
		for _, studio := range []string{"acme", "globex"} {
			if _, err := db.Collection("chats").InsertOne(ctx, bson.D{{Key: "profile", Value: p.id}, {Key: "studio", Value: studio}, {Key: "text", Value: "hi"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
	before := map[string]string{}
	for _, id := range []string{"p2", "p3"} {
		before[id] = docJSON(t, app, "profiles", id)
	}
	out, err := eng.Execute(ctx, erasure("alice@example.com", "acme"), newJournal())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Verification.Passed || out.Counts["app.profiles"] != 1 || out.Counts["app.chats"] != 2 {
		t.Fatalf("outcome = %+v, %+v", out.Counts, out.Verification)
	}
	hashed := eng.Hasher.Anonymize("Alice@Example.com")
	want := `{"_id":"p1","email":"` + hashed + `","studio":"acme","contact":{"emails":["[redacted]","[redacted]"],"phones":{"home":null,"work":null}},` +
		`"history":[{"note":"gone","at":{"$date":{"$numberLong":"1767323045000"}},"n":{"$numberLong":"7"}}],"visits":{"$numberInt":"3"}}`
	if got := docJSON(t, app, "profiles", "p1"); got != want {
		t.Errorf("anonymised profile =\n%s\nwant\n%s", got, want)
	}
	for id, b := range before {
		if got := docJSON(t, app, "profiles", id); got != b {
			t.Errorf("profile %s changed:\n%s\nwas\n%s", id, got, b)
		}
	}
	n, err := db.Collection("chats").CountDocuments(ctx, bson.D{})
	if err != nil || n != 4 {
		t.Errorf("chats left = %d (%v), want 4: all but Alice's two in acme", n, err)
	}
	if n, _ := db.Collection("chats").CountDocuments(ctx, bson.D{{Key: "profile", Value: "p1"}, {Key: "studio", Value: "globex"}}); n != 1 {
		t.Errorf("Alice's acme profile's chat in globex: %d left, want 1 (out of the tenant)", n)
	}

	// Globex stops collecting responses: the responses sweep purges its
	// chats (marked responses), acme's stay.
	sw := sweeperFor(t, reg, map[string]retention.Store{"app": app}, eng, time.Now())
	if _, err := sw.Settings.PutSettings(ctx, "test", &retention.Settings{Tenant: "globex", CollectResponses: false}); err != nil {
		t.Fatal(err)
	}
	run, err := sw.RunResponses(ctx, retention.Options{Trigger: retention.TriggerCLI})
	if err != nil || run == nil {
		t.Fatalf("responses sweep = %v, %v", run, err)
	}
	for studio, want := range map[string]int64{"globex": 0, "acme": 1} {
		if n, err := db.Collection("chats").CountDocuments(ctx, bson.D{{Key: "studio", Value: studio}}); err != nil || n != want {
			t.Errorf("%s chats after the responses sweep: %d (%v), want %d", studio, n, err, want)
		}
	}
}

// docJSON returns the document id of app's collection coll as canonical
// Extended JSON.
func docJSON(t *testing.T, app *mongostore.Store, coll, id string) string {
	t.Helper()
	raw, err := app.Database().Collection(coll).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bson.MarshalExtJSON(raw, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
