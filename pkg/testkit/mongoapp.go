package testkit

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// OpenMongo opens the application store "app" on a fresh mongo database,
// closed when t ends, and parses registryYAML with its %s replaced by that
// database's name.
func OpenMongo(t testing.TB, registryYAML string) (*mongostore.Store, *registry.Registry) {
	t.Helper()
	uri, database := testdb.Mongo(t)
	app, err := mongostore.Open("app", uri, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	reg, err := registry.Parse([]byte(strings.Replace(registryYAML, "%s", database, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return app, reg
}

// MongoDocs returns every document of coll as canonical Extended JSON, in
// _id order (empty, not nil, for none): a whole-document digest to compare
// a store with another run's.
func MongoDocs(t testing.TB, coll *mongo.Collection) []string {
	t.Helper()
	ctx := context.Background()
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	out := []string{}
	for cur.Next(ctx) {
		b, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
