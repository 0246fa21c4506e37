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

// TestTallyCountsAsPurgeDeletes: a tally by studio counts, per studio, the
// documents and file keys that Purge then deletes and returns: a missing
// studio is a group of its own, and a file key that is missing, null or
// empty is no file.
func TestTallyCountsAsPurgeDeletes(t *testing.T) {
	app, reg := testkit.OpenMongo(t, `
stores:
  app:   {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
  files: {kind: blob, url: "mem://"}
collections:
  app.uploads:
    identity: {email: email}
    tenant: studio
    files: {key: files}
    retention: {window: 1d, timestamp: createdAt}
    erasure: delete
`)
	ctx := context.Background()
	old := time.Now().UTC().Add(-10 * 24 * time.Hour)
	docs := []bson.D{
		{{Key: "studio", Value: "acme"}, {Key: "key", Value: "a/1"}},
		{{Key: "studio", Value: "acme"}, {Key: "key", Value: ""}},
		{{Key: "studio", Value: "acme"}},
		{{Key: "studio", Value: "globex"}, {Key: "key", Value: "g/1"}},
		{{Key: "studio", Value: "globex"}, {Key: "key", Value: nil}},
		{{Key: "key", Value: "n/1"}},
	}
	for i, d := range docs {
		d = append(d, bson.E{Key: "_id", Value: fmt.Sprint("u", i)}, bson.E{Key: "createdAt", Value: old})
		if _, err := app.Database().Collection("uploads").InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	sel := connector.Selection{Collection: reg.Collections["app.uploads"], All: true, Older: &connector.Older{Column: "createdAt", Before: time.Now()}}
	gs, err := app.Tally(ctx, []retention.Tally{{Sel: sel, By: "studio", Files: []string{"key"}}, {Sel: sel}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, g := range gs[0] {
		got[fmt.Sprint(g.Value)] = [2]int64{g.Rows, g.Files}
	}
	if len(gs[1]) != 1 || gs[1][0] != (retention.TallyGroup{Rows: 6}) {
		t.Errorf("tally without By: %+v; want one group of 6 documents", gs[1])
	}
	n, vals, err := app.Purge(ctx, sel, []string{"studio", "key"}, nil, 10)
	if err != nil || n != 6 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	purged := map[string][2]int64{}
	for _, v := range vals {
		p := purged[fmt.Sprint(v[0])]
		p[0]++
		if v[1] != nil && v[1] != "" {
			p[1]++
		}
		purged[fmt.Sprint(v[0])] = p
	}
	if want := map[string][2]int64{"acme": {3, 1}, "globex": {2, 1}, "<nil>": {1, 1}}; !maps.Equal(got, want) || !maps.Equal(purged, want) {
		t.Errorf("tally by studio (documents, files) %v, purge %v; want %v", got, purged, want)
	}
}
