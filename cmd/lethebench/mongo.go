package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// mongoBenchRegistry is LibreChat's core: users, their conversations
// (owner id as a hex string) and the conversations' messages.
const mongoBenchRegistry = `
stores:
  chat: {kind: mongo, uri_env: BENCH_MONGO_URI, database: %s}
collections:
  chat.users:
    identity: {email: email}
    erasure: delete
  chat.conversations:
    references: {user: users._id}
    categories: {conversationId: user.content.chat}
    erasure: delete
  chat.messages:
    references: {conversationId: conversations.conversationId}
    erasure: delete
`

// mongoShape: one subject with 40 conversations × 50 messages among 50
// other users (4 conversations × 5 messages each).
const (
	mongoUsers, mongoConvos, mongoMessages = 51, 4, 5
	mongoHeavyConvos, mongoHeavyMessages   = 40, 50
)

// mongoErasure: Lethe's erasure of one subject on a MongoDB-wire server
// (LETHE_TEST_MONGO_URI, FerretDB on 127.0.0.1:27017 by default) against
// the raw deleteMany calls that remove the same documents, on identical
// databases seeded afresh for every run.
func (b *bench) mongoErasure(ctx context.Context) (string, error) {
	uri := cmp.Or(os.Getenv("LETHE_TEST_MONGO_URI"), "mongodb://127.0.0.1:27017/")
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return "", err
	}
	defer client.Disconnect(context.Background())
	if err := client.Ping(ctx, nil); err != nil {
		return "", fmt.Errorf("no MongoDB-wire server at %s (start one: deploy/ferretdb/start.sh): %w", uri, err)
	}
	var ratios []float64
	var tb, tl time.Duration
	var docs int64
	for rep := range b.reps {
		id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		base, lethe := client.Database("lethebench_base_"+id), client.Database("lethebench_lethe_"+id)
		err := seedMongo(ctx, base)
		if err == nil {
			err = seedMongo(ctx, lethe)
		}
		if err == nil {
			tb, tl, docs, err = b.mongoOnce(ctx, uri, base, lethe, rep%2 == 1)
		}
		base.Drop(context.Background())
		lethe.Drop(context.Background())
		if err != nil {
			return "", err
		}
		ratios = append(ratios, float64(tl)/float64(tb))
	}
	return fmt.Sprintf("ratio=%.2f lethe_ms=%s baseline_ms=%s docs=%d reps=%d", median(ratios), ms(tl), ms(tb), docs, b.reps), nil
}

func (b *bench) mongoOnce(ctx context.Context, uri string, base, lethe *mongo.Database, letheFirst bool) (tb, tl time.Duration, docs int64, err error) {
	reg, err := registry.Parse([]byte(fmt.Sprintf(mongoBenchRegistry, lethe.Name())))
	if err != nil {
		return
	}
	st, err := mongostore.Open("chat", uri, lethe.Name())
	if err != nil {
		return
	}
	defer st.Close()
	eng := engine.New(reg, map[string]connector.Store{"chat": st}, dsr.NewSubjectHasher([]byte("bench")))
	eng.BatchSize = b.batch
	const email = "user1@example.com"
	runBase := func() error {
		start := time.Now()
		n, err := mongoBaseline(ctx, base, email)
		tb, docs = time.Since(start), n
		return err
	}
	runLethe := func() error {
		start := time.Now()
		out, err := eng.Execute(ctx, &dsr.Request{ID: "bench", Type: dsr.TypeErasure, Email: email}, memjournal.New())
		tl = time.Since(start)
		if err == nil && !out.Verification.Passed {
			err = fmt.Errorf("verification failed: %+v", out.Verification)
		}
		return err
	}
	first, second := runBase, runLethe
	if letheFirst {
		first, second = runLethe, runBase
	}
	if err = first(); err == nil {
		err = second()
	}
	return
}

// mongoBaseline deletes the subject's documents as a hand-written script
// would: look the user up, then one deleteMany per collection, children
// first. It returns the documents deleted.
func mongoBaseline(ctx context.Context, db *mongo.Database, email string) (int64, error) {
	var user struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := db.Collection("users").FindOne(ctx, bson.D{{Key: "email", Value: email}}).Decode(&user); err != nil {
		return 0, err
	}
	var convos []string
	cur, err := db.Collection("conversations").Find(ctx, bson.D{{Key: "user", Value: user.ID.Hex()}},
		options.Find().SetProjection(bson.D{{Key: "conversationId", Value: 1}}))
	if err != nil {
		return 0, err
	}
	for cur.Next(ctx) {
		convos = append(convos, cur.Current.Lookup("conversationId").StringValue())
	}
	cur.Close(ctx)
	var n int64
	for _, del := range []struct {
		coll   string
		filter bson.D
	}{
		{"messages", bson.D{{Key: "conversationId", Value: bson.D{{Key: "$in", Value: convos}}}}},
		{"conversations", bson.D{{Key: "user", Value: user.ID.Hex()}}},
		{"users", bson.D{{Key: "_id", Value: user.ID}}},
	} {
		res, err := db.Collection(del.coll).DeleteMany(ctx, del.filter)
		if err != nil {
			return n, err
		}
		n += res.DeletedCount
	}
	return n, nil
}

// seedMongo writes the benchmark's users, conversations and messages, with
// the indexes LibreChat creates on the fields the walk follows.
func seedMongo(ctx context.Context, db *mongo.Database) error {
	for _, ix := range []struct{ coll, field string }{{"users", "email"}, {"conversations", "user"}, {"conversations", "conversationId"}, {"messages", "conversationId"}} {
		if _, err := db.Collection(ix.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: ix.field, Value: 1}}}); err != nil {
			return err
		}
	}
	var users, convos, msgs []any
	for u := range mongoUsers {
		uid := bson.NewObjectID()
		email := fmt.Sprintf("user%d@example.com", u+1)
		users = append(users, bson.D{{Key: "_id", Value: uid}, {Key: "email", Value: email}, {Key: "name", Value: fmt.Sprintf("User %d", u+1)}})
		nc, nm := mongoConvos, mongoMessages
		if u == 0 {
			nc, nm = mongoHeavyConvos, mongoHeavyMessages
		}
		for c := range nc {
			convo := fmt.Sprintf("u%d-c%d", u, c)
			convos = append(convos, bson.D{{Key: "conversationId", Value: convo}, {Key: "user", Value: uid.Hex()}, {Key: "title", Value: "chat"}})
			for m := range nm {
				msgs = append(msgs, bson.D{{Key: "messageId", Value: fmt.Sprintf("%s-m%d", convo, m)}, {Key: "conversationId", Value: convo},
					{Key: "user", Value: uid.Hex()}, {Key: "text", Value: "I am " + email}})
			}
		}
	}
	for coll, docs := range map[string][]any{"users": users, "conversations": convos, "messages": msgs} {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			return err
		}
	}
	return nil
}
