package engine_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// libreChatCross adds to the LibreChat example a billing table in Postgres
// whose rows point at LibreChat users, and a mongo collection of invoices
// pointing back at those rows: references across stores both ways.
const (
	libreChatCrossStore = "stores:\n  billing: {kind: sql, driver: postgres, dsn_env: BILLING_DSN}\n"
	libreChatCrossColls = `collections:
  billing.customers:
    references: {librechat_user: chat.users._id}
    categories: {name: user.name}
    erasure: delete
  chat.invoices:
    references: {customer_id: billing.customers.id}
    categories: {amount: user.billing}
    retention: {window: 30d, timestamp: {column: issued, unit: ms}}
    erasure: delete
`
)

// libreChatCollections are the example's collections plus the test's invoices.
var libreChatCollections = []string{"users", "conversations", "messages", "files", "sessions", "tokens", "keys",
	"presets", "transactions", "sharedlinks", "invoices"}

// libreChatUsers are the people of the fixture. The awkward addresses
// prove that regular-expression and query syntax in an address is plain
// text: each matches only itself, case aside.
var libreChatUsers = []string{
	"alice@example.com", "bob@example.com", "carol@example.com",
	"a.b*c+d@example.com", "aXb*c+d@example.com", "a.bbbc+d@example.com", "A.B*C+D@EXAMPLE.COM",
	"a|b@example.com", "b@example.com",
	`{"$ne": null}`, ".*", "^alice@example.com", "alice@example.com\n", "ALİCE@example.com",
	"ÄRGER@example.com", "brger@example.com", "ΟΔΥΣΣΕΥΣ@example.com",
}

// libreChat is the LibreChat example on FerretDB, with its uploads in a
// folder and the billing table in Postgres.
type libreChat struct {
	chat    *mongostore.Store
	billing *sqlstore.Store
	reg     *registry.Registry
	eng     *engine.Engine
	uploads string
	ids     map[string]bson.ObjectID // user ids by address
}

// setupLibreChat seeds every collection as LibreChat writes it: each user
// has two conversations (one 400 days old) of two messages, an upload (400
// days old for carol), a session, a verification token, a key, a preset,
// a transaction, a share, a billing customer and two invoices.
func setupLibreChat(t *testing.T, now time.Time) *libreChat {
	t.Helper()
	ctx := context.Background()
	uri, database := testdb.Mongo(t)
	chat, err := mongostore.Open("chat", uri, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chat.Close() })
	lc := &libreChat{chat: chat, uploads: t.TempDir(), ids: map[string]bson.ObjectID{}}
	lc.billing = testkit.OpenStore(t, "billing", registry.DriverPostgres,
		`CREATE TABLE customers (id BIGINT PRIMARY KEY, librechat_user VARCHAR(24) NOT NULL, name VARCHAR(255))`)
	db := chat.Database()
	for _, idx := range []struct{ coll, field string }{{"users", "email"}, {"conversations", "user"},
		{"conversations", "conversationId"}, {"messages", "conversationId"}, {"messages", "user"}, {"files", "user"}} {
		if _, err := db.Collection(idx.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: idx.field, Value: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i, email := range libreChatUsers {
		lc.seedUser(t, i, email, now)
	}
	raw, err := os.ReadFile("../../deploy/registries/librechat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(raw), `url: "file:///var/lib/librechat"`, `url: "file://`+lc.uploads+`"`, 1)
	src = strings.Replace(src, "database: LibreChat", "database: "+database, 1)
	src = strings.Replace(src, "stores:\n", libreChatCrossStore, 1)
	src = strings.Replace(src, "collections:\n", libreChatCrossColls, 1)
	if !strings.Contains(src, lc.uploads) || !strings.Contains(src, database) {
		t.Fatal("the example's stores cannot be pointed at the test's")
	}
	if lc.reg, err = registry.Parse([]byte(src)); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.reg.CheckLive(ctx, sqlstore.Stores{"billing": lc.billing}.Schemas()); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.reg.CheckLiveDocuments(ctx, mongostore.Stores{"chat": chat}.Documents()); err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.OpenRegistry(ctx, lc.reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	lc.eng = engine.New(lc.reg, map[string]connector.Store{"chat": chat, "billing": lc.billing}, dsr.NewSubjectHasher([]byte("test-key")))
	lc.eng.Blobs = blobs.Engine()
	lc.eng.BatchSize, lc.eng.RowBatch, lc.eng.KeyChunk = 2, 2, 3 // several batches and passes
	return lc
}

// seedUser writes user i's documents in the shapes LibreChat's Mongoose
// schemas give them: owner ids as ObjectIds or hex strings as each schema
// declares, dates as BSON dates.
func (lc *libreChat) seedUser(t *testing.T, i int, email string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	db := lc.chat.Database()
	uid := bson.NewObjectID()
	lc.ids[email] = uid
	hex := uid.Hex()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	insert := func(coll string, docs ...any) {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatalf("seed %s: %v", coll, err)
		}
	}
	insert("users", bson.D{{Key: "_id", Value: uid}, {Key: "name", Value: fmt.Sprintf("User %d", i)}, {Key: "username", Value: fmt.Sprintf("user%d", i)},
		{Key: "email", Value: email}, {Key: "emailVerified", Value: true}, {Key: "password", Value: "$2a$10$hash"},
		{Key: "avatar", Value: nil}, {Key: "provider", Value: "local"}, {Key: "role", Value: "USER"},
		{Key: "plugins", Value: bson.A{}}, {Key: "refreshToken", Value: bson.A{}},
		{Key: "createdAt", Value: ago(500 * day)}, {Key: "updatedAt", Value: ago(day)}})
	var msgIDs bson.A
	for j, age := range []time.Duration{10 * day, 400 * day} {
		convo := fmt.Sprintf("%08d-0000-4000-8000-%012d", i, j)
		var ids bson.A
		for k, byUser := range []bool{true, false} {
			mid := bson.NewObjectID()
			ids = append(ids, mid)
			text := fmt.Sprintf("I am %s and I need a new job (%d)", email, k)
			msg := bson.D{{Key: "_id", Value: mid}, {Key: "messageId", Value: fmt.Sprintf("%s-m%d", convo, k)},
				{Key: "conversationId", Value: convo}, {Key: "user", Value: hex}, {Key: "model", Value: "gpt-4o"},
				{Key: "endpoint", Value: "openAI"}, {Key: "parentMessageId", Value: "00000000-0000-0000-0000-000000000000"},
				{Key: "tokenCount", Value: int32(12 + k)}, {Key: "sender", Value: map[bool]string{true: "User", false: "GPT-4o"}[byUser]},
				{Key: "text", Value: text}, {Key: "isCreatedByUser", Value: byUser}, {Key: "unfinished", Value: false}, {Key: "error", Value: false},
				{Key: "createdAt", Value: ago(age)}, {Key: "updatedAt", Value: ago(age)}}
			if !byUser {
				msg = append(msg, bson.E{Key: "content", Value: bson.A{bson.D{{Key: "type", Value: "text"}, {Key: "text", Value: "Tell me more, " + email}}}})
			}
			insert("messages", msg)
		}
		msgIDs = append(msgIDs, ids...)
		insert("conversations", bson.D{{Key: "conversationId", Value: convo}, {Key: "title", Value: "Career chat"},
			{Key: "user", Value: hex}, {Key: "messages", Value: ids}, {Key: "isArchived", Value: false}, {Key: "endpoint", Value: "openAI"},
			{Key: "model", Value: "gpt-4o"}, {Key: "tags", Value: bson.A{}}, {Key: "createdAt", Value: ago(age)}, {Key: "updatedAt", Value: ago(age)}})
		insert("transactions", bson.D{{Key: "user", Value: uid}, {Key: "conversationId", Value: convo}, {Key: "tokenType", Value: "prompt"},
			{Key: "model", Value: "gpt-4o"}, {Key: "rate", Value: 2.5}, {Key: "rawAmount", Value: int32(-120)}, {Key: "tokenValue", Value: -300.0},
			{Key: "createdAt", Value: ago(age)}, {Key: "updatedAt", Value: ago(age)}})
	}
	fileID := fmt.Sprintf("%08d-f000-4000-8000-000000000000", i)
	filepathOf := "/uploads/" + hex + "/" + fileID + "__cv.pdf"
	fileAge := 10 * day
	if email == "carol@example.com" {
		fileAge = 400 * day
	}
	insert("files", bson.D{{Key: "user", Value: uid}, {Key: "file_id", Value: fileID}, {Key: "bytes", Value: int32(len(email) + 3)},
		{Key: "filename", Value: "cv.pdf"}, {Key: "filepath", Value: filepathOf}, {Key: "object", Value: "file"}, {Key: "type", Value: "application/pdf"},
		{Key: "usage", Value: int32(0)}, {Key: "source", Value: "local"}, {Key: "embedded", Value: false},
		{Key: "createdAt", Value: ago(fileAge)}, {Key: "updatedAt", Value: ago(fileAge)}})
	if err := os.MkdirAll(filepath.Join(lc.uploads, "uploads", hex), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lc.uploads, filepath.FromSlash(filepathOf)), []byte(email+" CV"), 0o600); err != nil {
		t.Fatal(err)
	}
	insert("sessions", bson.D{{Key: "refreshTokenHash", Value: fmt.Sprintf("%064d", i)}, {Key: "expiration", Value: now.Add(7 * day)}, {Key: "user", Value: uid}})
	insert("tokens", bson.D{{Key: "userId", Value: uid}, {Key: "email", Value: email}, {Key: "token", Value: fmt.Sprintf("tok%d", i)},
		{Key: "createdAt", Value: ago(day)}, {Key: "expiresAt", Value: now.Add(day)}})
	insert("keys", bson.D{{Key: "userId", Value: uid}, {Key: "name", Value: "openAI"}, {Key: "value", Value: "encrypted-key"}, {Key: "expiresAt", Value: now.Add(30 * day)}})
	insert("presets", bson.D{{Key: "presetId", Value: fmt.Sprintf("p%d", i)}, {Key: "title", Value: "Interview coach"}, {Key: "user", Value: hex},
		{Key: "endpoint", Value: "openAI"}, {Key: "promptPrefix", Value: "Coach " + email}, {Key: "createdAt", Value: ago(day)}})
	insert("sharedlinks", bson.D{{Key: "conversationId", Value: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, 0)}, {Key: "title", Value: "Career chat"},
		{Key: "user", Value: hex}, {Key: "messages", Value: msgIDs[:2]}, {Key: "shareId", Value: fmt.Sprintf("s%d", i)}, {Key: "isPublic", Value: true},
		{Key: "createdAt", Value: ago(day)}})
	testkit.Exec(t, lc.billing, `INSERT INTO customers (id, librechat_user, name) VALUES (?, ?, ?)`, i+1, hex, fmt.Sprintf("User %d", i))
	insert("invoices", bson.D{{Key: "customer_id", Value: int64(i + 1)}, {Key: "amount", Value: int32(10)}, {Key: "issued", Value: ago(5 * day).UnixMilli()}},
		bson.D{{Key: "customer_id", Value: int32(i + 1)}, {Key: "amount", Value: int32(20)}, {Key: "issued", Value: ago(60 * day).UnixMilli()}})
}

// digests returns every document of the example's collections as
// canonical Extended JSON, and every billing row, sorted, by collection.
func (lc *libreChat) digests(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, coll := range libreChatCollections {
		out[coll] = testkit.MongoDocs(t, lc.chat.Database().Collection(coll))
		slices.Sort(out[coll])
	}
	for _, r := range dumpRows(t, lc.billing, `SELECT * FROM customers ORDER BY id`) {
		out["billing.customers"] = append(out["billing.customers"], strings.Join(r, "|"))
	}
	return out
}

// without returns d less the documents and rows that name any of texts.
func without(d map[string][]string, texts ...string) map[string][]string {
	out := map[string][]string{}
	for k, docs := range d {
		out[k] = []string{}
		for _, doc := range docs {
			if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(doc, s) }) {
				out[k] = append(out[k], doc)
			}
		}
	}
	return out
}

func equalDigests(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for k := range want {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s:\n got %d: %v\nwant %d: %v", k, len(got[k]), got[k], len(want[k]), want[k])
		}
	}
}

// planCounts returns a plan's rows per collection.
func planCounts(t *testing.T, eng *engine.Engine, email string) map[string]int64 {
	t.Helper()
	p, err := eng.Plan(context.Background(), email, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, it := range p.Collections {
		if it.Count > 0 {
			out[it.Store+"."+it.Collection] = it.Count
		}
	}
	return out
}

// libreChatPerson is what the example holds of one person: the plan's counts.
var libreChatPerson = map[string]int64{"chat.users": 1, "chat.conversations": 2, "chat.messages": 4, "chat.files": 1,
	"chat.sessions": 1, "chat.tokens": 1, "chat.keys": 1, "chat.presets": 1, "chat.transactions": 2, "chat.shares": 1,
	"billing.customers": 1, "chat.invoices": 2}

// TestLibreChatHostileAddresses plans erasures of addresses full of
// regular-expression and query syntax: each finds only its own account
// (and the same address in other case), never a decoy that a pattern or
// an operator would have matched.
func TestLibreChatHostileAddresses(t *testing.T) {
	lc := setupLibreChat(t, time.Now().UTC())
	twice := maps.Clone(libreChatPerson)
	for k, n := range twice {
		twice[k] = 2 * n
	}
	for _, tc := range []struct {
		email string
		want  map[string]int64
	}{
		{"alice@example.com", libreChatPerson}, // not ^alice…, alice…\n, ALİCE… (İ folds to i̇) nor .*
		{"ALICE@example.com", libreChatPerson},
		{"a.b*c+d@example.com", twice}, // itself and A.B*C+D@EXAMPLE.COM
		{"a|b@example.com", libreChatPerson},
		{"b@example.com", libreChatPerson},
		{"ärger@example.com", libreChatPerson}, // ÄRGER…, not brger… (which the server's pattern lets through)
		{"οδυσσευς@example.com", libreChatPerson},
		{"nobody@example.com", map[string]int64{}},
	} {
		if got := planCounts(t, lc.eng, tc.email); !maps.Equal(got, tc.want) {
			t.Errorf("plan %q = %v, want %v", tc.email, got, tc.want)
		}
	}
}

// erased returns the digests before less everything of the person at
// address (her documents name her id; her invoices, her customer number
// i+1) and with her transactions unlinked, as an erasure must leave them.
func (lc *libreChat) erased(before map[string][]string, address string) map[string][]string {
	hex := lc.ids[address].Hex()
	customer := fmt.Sprint(slices.Index(libreChatUsers, address) + 1)
	want := without(before, hex, `"customer_id":{"$numberLong":"`+customer+`"}`, `"customer_id":{"$numberInt":"`+customer+`"}`)
	for _, doc := range before["transactions"] {
		if strings.Contains(doc, hex) {
			want["transactions"] = append(want["transactions"], strings.Replace(doc, `"user":{"$oid":"`+hex+`"}`, `"user":null`, 1))
		}
	}
	slices.Sort(want["transactions"])
	return want
}

// uploadsLeft lists the uploads left in the example's folder.
func (lc *libreChat) uploadsLeft(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(lc.uploads, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, lc.uploads))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// ids returns the _ids (hex) of coll's documents meeting filter, read
// with the driver directly.
func (lc *libreChat) idsWhere(t *testing.T, coll string, filter bson.D) []string {
	t.Helper()
	ctx := context.Background()
	cur, err := lc.chat.Database().Collection(coll).Find(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []string
	for cur.Next(ctx) {
		out = append(out, cur.Current.Lookup("_id").ObjectID().Hex())
	}
	return out
}

// dropIDs removes from d[coll] the documents whose _id is one of ids.
func dropIDs(d map[string][]string, coll string, ids []string) {
	d[coll] = slices.DeleteFunc(d[coll], func(doc string) bool {
		return slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(doc, `{"_id":{"$oid":"`+id+`"}`) })
	})
}

// TestLibreChatExample runs the LibreChat example on FerretDB: plan,
// access and erasure of one person (across the billing table in Postgres
// and back), then a retention sweep; each leaves every other document,
// row and upload as it was, compared by digest.
func TestLibreChatExample(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	lc := setupLibreChat(t, now)
	if got := planCounts(t, lc.eng, "Alice@Example.com"); !maps.Equal(got, libreChatPerson) {
		t.Errorf("plan = %v, want %v", got, libreChatPerson)
	}

	_, plain, _ := accessPackage(t, lc.eng, "req-access-alice", "alice@example.com", "")
	zr, err := zipEntries(plain)
	if err != nil {
		t.Fatal(err)
	}
	msgs := string(zr["data/chat/messages.json"])
	if strings.Count(msgs, `"isCreatedByUser":true`) != 2 || !strings.Contains(msgs, `"$date"`) || !strings.Contains(msgs, "I am alice@example.com") {
		t.Errorf("messages.json = %s, want Alice's four messages as Extended JSON", msgs)
	}
	if string(zr["files/uploads/uploads/"+lc.ids["alice@example.com"].Hex()+"/00000000-f000-4000-8000-000000000000__cv.pdf"]) != "alice@example.com CV" {
		t.Errorf("the package lacks Alice's upload: %v", slices.Sorted(maps.Keys(zr)))
	}
	for name, b := range zr {
		for _, other := range []string{"bob@example.com", "carol@example.com", lc.ids["bob@example.com"].Hex()} {
			if strings.Contains(string(b), other) {
				t.Errorf("%s holds someone else's data (%s)", name, other)
			}
		}
	}

	before := lc.digests(t)
	uploadsBefore := lc.uploadsLeft(t)
	out, err := lc.eng.Execute(ctx, erasure("alice@example.com", ""), newJournal())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Verification.Passed {
		t.Fatalf("verification: %+v", out.Verification)
	}
	if out.Counts["chat.messages"] != 4 || out.Counts["billing.customers"] != 1 || out.Counts["chat.invoices"] != 2 ||
		out.Counts["chat.transactions"] != 2 || out.Counts["uploads.files"] != 1 {
		t.Errorf("counts = %v", out.Counts)
	}
	equalDigests(t, lc.digests(t), lc.erased(before, "alice@example.com"))
	aliceUpload := "/uploads/" + lc.ids["alice@example.com"].Hex() + "/00000000-f000-4000-8000-000000000000__cv.pdf"
	if got, want := lc.uploadsLeft(t), slices.DeleteFunc(uploadsBefore, func(s string) bool { return s == aliceUpload }); !slices.Equal(got, want) {
		t.Errorf("uploads after erasure = %v, want %v", got, want)
	}

	// The sweep purges conversations, messages and uploads older than 365
	// days (dates) and invoices older than 30 days (epoch milliseconds).
	kept := lc.digests(t)
	for coll, f := range map[string]bson.D{
		"conversations": {{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-365 * day)}}}},
		"messages":      {{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-365 * day)}}}},
		"files":         {{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-365 * day)}}}},
		"invoices":      {{Key: "issued", Value: bson.D{{Key: "$lt", Value: now.Add(-30 * day).UnixMilli()}}}},
	} {
		dropIDs(kept, coll, lc.idsWhere(t, coll, f))
	}
	sw := sweeperFor(t, lc.reg, map[string]retention.Store{"chat": lc.chat, "billing": lc.billing}, lc.eng, now)
	sw.Files = retention.DeleteFileFunc(func(ctx context.Context, store, key string) error {
		_, err := lc.eng.Blobs[store].(*blobstore.Store).Delete(ctx, key)
		return err
	})
	run, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	purged := map[string]int64{}
	for _, c := range run.Counts {
		purged[c.Collection] += c.RowsPurged
	}
	n := int64(len(libreChatUsers) - 1)
	if want := map[string]int64{"chat.conversations": n, "chat.messages": 2 * n, "chat.files": 1, "chat.invoices": n}; !maps.Equal(purged, want) {
		t.Errorf("sweep purged %v, want %v", purged, want)
	}
	equalDigests(t, lc.digests(t), kept)
	carol := "/uploads/" + lc.ids["carol@example.com"].Hex() + "/00000002-f000-4000-8000-000000000000__cv.pdf"
	if slices.Contains(lc.uploadsLeft(t), carol) || len(lc.uploadsLeft(t)) != len(libreChatUsers)-2 {
		t.Errorf("uploads after the sweep = %v, want all but Alice's and Carol's", lc.uploadsLeft(t))
	}
}

// TestLibreChatErasureResumes interrupts an erasure of the LibreChat
// example at a write to FerretDB or Postgres (before it reaches the store,
// or after it did but before the journal heard of it) or at a journal
// write, as a killed process would (the run's context is cancelled and the
// run abandoned), then resumes it from the same journal: the result is
// the uninterrupted one, every other document as it was.
func TestLibreChatErasureResumes(t *testing.T) {
	for _, kp := range []killPoint{{store: 1}, {store: 3, afterCommit: true}, {store: 7}, {store: 12, afterCommit: true}, {journal: 2}, {journal: 6}} {
		t.Run(fmt.Sprintf("store%d-commit%v-journal%d", kp.store, kp.afterCommit, kp.journal), func(t *testing.T) {
			lc := setupLibreChat(t, time.Now().UTC())
			before := lc.digests(t)
			j := interrupted(t, lc.eng, kp)
			want := lc.erased(before, "alice@example.com")
			if mid := lc.digests(t); kp.store >= 3 && (sameDigests(mid, before) || sameDigests(mid, want)) {
				t.Fatal("the run was not interrupted mid-erasure")
			}
			out, err := lc.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Errorf("verification after resume: %+v", out.Verification)
			}
			equalDigests(t, lc.digests(t), want)
		})
	}
}

// TestLibreChatKilledBetweenBatchAndJournalCountsOnce kills an erasure of
// the LibreChat example, in batches of one document or row, right after a
// write to FerretDB or Postgres and before the journal records it, or at a
// journal write: the resumed run states the counts of an uninterrupted one
// (each batch was journaled before its write and is counted once) and
// leaves the same documents.
func TestLibreChatKilledBetweenBatchAndJournalCountsOnce(t *testing.T) {
	ref := setupLibreChat(t, time.Now().UTC())
	ref.eng.BatchSize, ref.eng.RowBatch = 1, 1
	refOut, err := ref.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
	if err != nil {
		t.Fatal(err)
	}
	for _, kp := range []killPoint{{store: 2, afterCommit: true}, {store: 5, afterCommit: true}, {store: 9, afterCommit: true},
		{store: 14, afterCommit: true}, {store: 20, afterCommit: true}, {journal: 8}} {
		t.Run(fmt.Sprintf("store%d-journal%d", kp.store, kp.journal), func(t *testing.T) {
			lc := setupLibreChat(t, time.Now().UTC())
			lc.eng.BatchSize, lc.eng.RowBatch = 1, 1
			before := lc.digests(t)
			j := interrupted(t, lc.eng, kp)
			out, err := lc.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(out.Counts, refOut.Counts) {
				t.Errorf("counts %v, uninterrupted %v", out.Counts, refOut.Counts)
			}
			if !out.Verification.Passed {
				t.Errorf("verification after resume: %+v", out.Verification)
			}
			equalDigests(t, lc.digests(t), lc.erased(before, "alice@example.com"))
		})
	}
}

func sameDigests(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}
