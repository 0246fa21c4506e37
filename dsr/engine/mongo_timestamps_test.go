package engine_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const mongoStampsRegistry = `
stores:
  app: {kind: mongo, uri_env: APP_MONGO_URI, database: %s}
collections:
  app.chats:
    identity: {email: email}
    retention: {window: 30d, timestamp: createdAt}
    erasure: delete
  app.events:
    identity: {email: email}
    retention: {window: 30d, timestamp: {column: at, unit: ms}}
    erasure: delete
`

// TestMongoRetentionTimestamps sweeps documents dated as applications
// write them, side by side in one collection: BSON dates, ISO-8601 text
// with and without an offset or a time of day, and epoch milliseconds
// where the rule declares the unit. Text is dated by the instant it names,
// so that near the cut-off an offset decides (text that sorts after the
// cut-off may be older, and text that sorts before it may not be); text
// that is no date, and a number without a unit, are never older. A dry run
// counts what the sweep then purges, in batches of two.
func TestMongoRetentionTimestamps(t *testing.T) {
	ctx := context.Background()
	app, reg := testkit.OpenMongo(t, mongoStampsRegistry)
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	cut := now.Add(-30 * day) // 2026-05-16T12:00:00Z
	iso := func(t time.Time, layout string) string { return t.Format(layout) }
	chats := []struct {
		id    string
		stamp any
		old   bool
	}{
		{"date-old", cut.Add(-time.Hour), true},
		{"date-new", cut.Add(time.Hour), false},
		{"utc-old", iso(cut.Add(-time.Second), time.RFC3339), true},
		{"utc-new", iso(cut.Add(time.Second), time.RFC3339Nano), false},
		// 13:00 local at +02:00 is 11:00 UTC: older, though it sorts after the cut-off's text.
		{"east-old", "2026-05-16T13:00:00+02:00", true},
		// 11:00 local at -02:00 is 13:00 UTC: not older, though it sorts before it.
		{"west-new", "2026-05-16T11:00:00-02:00", false},
		{"compact-old", "2026-05-16 17:29:59.5+0530", true},
		{"naive-old", "2026-05-16 11:59:59", true},
		{"naive-new", "2026-05-16 12:00:00", false},
		{"day-old", "2026-05-15", true},
		{"day-new", "2026-05-17", false},
		{"year-old", "2025-01-01T00:00:00Z", true},
		{"not-a-date", "long ago", false},
		{"no-unit", cut.Add(-time.Hour).UnixMilli(), false},
		{"missing", nil, false},
	}
	events := []struct {
		id    string
		stamp any
		old   bool
	}{
		{"ms-old", cut.Add(-time.Minute).UnixMilli(), true},
		{"ms-new", cut.Add(time.Minute).UnixMilli(), false},
		{"ms32-old", int32(1000), true},
		{"date-old", cut.Add(-time.Minute), true},
		{"text-old", "2026-05-16T12:59:00+01:00", true},
	}
	var want []string
	for _, c := range chats {
		doc := bson.D{{Key: "_id", Value: c.id}, {Key: "email", Value: c.id + "@example.com"}}
		if c.stamp != nil {
			doc = append(doc, bson.E{Key: "createdAt", Value: c.stamp})
		}
		if _, err := app.Database().Collection("chats").InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if !c.old {
			want = append(want, "chats/"+c.id)
		}
	}
	for _, e := range events {
		if _, err := app.Database().Collection("events").InsertOne(ctx, bson.D{{Key: "_id", Value: e.id}, {Key: "at", Value: e.stamp}}); err != nil {
			t.Fatal(err)
		}
		if !e.old {
			want = append(want, "events/"+e.id)
		}
	}
	eng := engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("test-key")))
	sw := sweeperFor(t, reg, map[string]retention.Store{"app": app}, eng, now)
	sw.BatchSize = 2
	wantPurged := map[string]int64{"app.chats": 7, "app.events": 4}
	dry, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := purgedBy(dry); !maps.Equal(got, wantPurged) {
		t.Errorf("dry run counts %v, want %v", got, wantPurged)
	}
	run, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if got := purgedBy(run); !maps.Equal(got, wantPurged) {
		t.Errorf("sweep purged %v, want %v", got, wantPurged)
	}
	var left []string
	for _, coll := range []string{"chats", "events"} {
		cur, err := app.Database().Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			left = append(left, coll+"/"+cur.Current.Lookup("_id").StringValue())
		}
		cur.Close(ctx)
	}
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("documents left %v, want %v", left, want)
	}
}

func purgedBy(r *retention.Run) map[string]int64 {
	out := map[string]int64{}
	for _, c := range r.Counts {
		if c.RowsPurged > 0 {
			out[c.Collection] += c.RowsPurged
		}
	}
	return out
}
