package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/processor"
	"github.com/lethe-privacy/lethe/pkg/connector/redisstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// sideRegistry has every kind of store: rows in SQL, files on disk, keys in
// a real Redis, and processors behind real HTTP servers. %[1]s is the
// uploads folder, %[2]s the test's redis key prefix, %[3]s and %[4]s the
// processors' URLs, %[5]s the second processor's options.
const sideRegistry = `
stores:
  app:       {kind: sql, driver: sqlite, dsn_env: APP_DSN}
  uploads:   {kind: blob, url: "file://%[1]s", prefix: cv, best_effort: true}
  cache:     {kind: redis, addr_env: REDIS_ADDR, keys: ["%[2]ssession:{app.users.id}:*", "%[2]sratelimit:{email}", "%[2]sprefs:{email}:*"]}
  llm:       {kind: processor, webhook: "%[3]s", secret_env: LLM_SECRET, deadline: 10s}
  analytics: {kind: processor, webhook: "%[4]s", secret_env: ANALYTICS_SECRET, %[5]s}
purposes:
  service: Run the studios and their chats
  coaching: Coach you through your job search
recipients:
  llm: The language-model vendor that answers chat messages
collections:
  app.users:
    identity: {email: email}
    categories: {email: user.contact.email, name: user.name}
    purpose: service
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    categories: {title: user.content.chat}
    purposes: [service, coaching]
    retention: {window: 30d, timestamp: created_at}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    json: {body: ["author.email", "parts[*].text"]}
    retention: {window: 2w, timestamp: created_at}
    erasure: delete
  app.uploads:
    references: {chat_id: chats.id}
    files: {storage_key: uploads}
    categories: {storage_key: user.content.file}
    erasure: delete
`

var sideDDL = []string{
	`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT)`,
	`CREATE TABLE chats (id INTEGER PRIMARY KEY, studio_id TEXT NOT NULL, user_id INTEGER NOT NULL, title TEXT, created_at TIMESTAMP NOT NULL)`,
	`CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`,
	`CREATE TABLE uploads (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, storage_key TEXT NOT NULL)`,
}

// person is one seeded user; every value of theirs carries their marker so
// that a package can be checked by content.
type person struct {
	id     int64
	email  string
	marker string
}

var (
	ada    = person{1, "ada@example.com", "ADA-MARK"}
	grace  = person{2, "grace@example.com", "GRACE-MARK"}
	tricky = person{3, "a*b?[c]@example.com", "TRICKY-MARK"}
	decoy  = person{4, "aXbYc@example.com", "DECOY-MARK"} // what tricky's email would match as a glob
)

// hook is a processor behind a real HTTP server.
type hook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	calls    int
	bodies   []string
	badSig   int
	failN    int  // answer 503 to the first failN calls
	hang     bool // never answer
	secret   []byte
	released chan struct{}
}

func newHook(t *testing.T, secret string, failN int, hang bool) *hook {
	h := &hook{secret: []byte(secret), failN: failN, hang: hang, released: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls++
		n := h.calls
		h.bodies = append(h.bodies, string(body))
		if processor.Verify(h.secret, r.Header.Get(processor.Header), body, time.Now(), time.Minute) != nil {
			h.badSig++
		}
		h.mu.Unlock()
		if h.hang {
			select {
			case <-h.released:
			case <-r.Context().Done():
			}
			return
		}
		if n <= h.failN {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(func() { close(h.released); h.srv.Close() })
	return h
}

func (h *hook) snapshot() (calls, bad int, bodies []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, h.badSig, append([]string(nil), h.bodies...)
}

// sideEnv is one test's application: database, folder, keys and hooks.
type sideEnv struct {
	reg        *registry.Registry
	app        *sqlstore.Store
	uploads    string // the bucket folder
	outside    string // a file next to it that a traversal key names
	redis      *redisstore.Store
	pre        string
	llm, anlyt *hook
	eng        *engine.Engine
}

// setupSide seeds the four persons. analyticsOpts is the second processor's
// registry options; it never answers.
func setupSide(t *testing.T, analyticsOpts string) *sideEnv {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	e := &sideEnv{uploads: filepath.Join(root, "uploads"), outside: filepath.Join(root, "outside.txt"),
		pre: "lethetest:" + uuid.NewString()[:8] + ":"}
	e.llm = newHook(t, "llm-secret", 2, false)
	e.anlyt = newHook(t, "an-secret", 0, true)
	reg := testkit.Registry(t, sideRegistry, e.uploads, e.pre, e.llm.srv.URL, e.anlyt.srv.URL, analyticsOpts)
	e.reg = reg
	e.app = testkit.OpenStore(t, "app", registry.DriverSQLite, sideDDL...)
	if err := os.MkdirAll(filepath.Join(e.uploads, "cv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.outside, []byte("OUTSIDE-MARK: a file the registry never covers"), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	e.redis, err = redisstore.Open("cache", testdb.RedisAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.redis.Scan(ctx, engine.KeyPattern{Match: engine.EscapeGlob(e.pre) + "*"}, func(keys []string) error {
			_, err := e.redis.Delete(ctx, keys)
			return err
		})
		e.redis.Close()
	})
	rc := e.redis.Client()
	now := time.Now().UTC()
	for _, p := range []person{ada, grace, tricky, decoy} {
		testkit.Exec(t, e.app, `INSERT INTO users (id, email, name) VALUES (?, ?, ?)`, p.id, p.email, p.marker+" name")
		chat := p.id * 10
		testkit.Exec(t, e.app, `INSERT INTO chats (id, studio_id, user_id, title, created_at) VALUES (?, ?, ?, ?, ?)`, chat, "acme", p.id, p.marker+" chat", now)
		for m := range int64(3) {
			body, _ := json.Marshal(map[string]any{"author": map[string]any{"email": p.email}, "parts": []any{map[string]any{"text": p.marker + " says, \"hi\"\nnewline"}}})
			testkit.Exec(t, e.app, `INSERT INTO messages (id, chat_id, body, created_at) VALUES (?, ?, ?, ?)`, chat*10+m, chat, string(body), now)
		}
		key := fmt.Sprintf("cv/%d.txt", p.id)
		testkit.Exec(t, e.app, `INSERT INTO uploads (id, chat_id, storage_key) VALUES (?, ?, ?)`, chat, chat, key)
		if err := os.WriteFile(filepath.Join(e.uploads, key), []byte(p.marker+" CV"), 0o600); err != nil {
			t.Fatal(err)
		}
		rc.HSet(ctx, fmt.Sprintf("%ssession:%d:web", e.pre, p.id), "user", p.marker)
		rc.Set(ctx, fmt.Sprintf("%ssession:%d:app", e.pre, p.id), p.marker+" token", 0)
		rc.Set(ctx, e.pre+"ratelimit:"+p.email, p.marker+" 3", 0)
		rc.SAdd(ctx, e.pre+"prefs:"+p.email+":topics", p.marker+" cv", p.marker+" interviews")
	}
	rc.Set(ctx, e.pre+"session:11:web", "DECOY-MARK not ada's: session 11", 0)
	// Ada's second upload names a file outside the bucket: refused, never followed.
	testkit.Exec(t, e.app, `INSERT INTO uploads (id, chat_id, storage_key) VALUES (?, ?, ?)`, 99, ada.id*10, "../outside.txt")

	blobs, err := blobstore.OpenRegistry(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	procs, err := processor.FromRegistry(reg, func(k string) string {
		return map[string]string{"LLM_SECRET": "llm-secret", "ANALYTICS_SECRET": "an-secret"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs { // fast retries for the test; the deadlines come from the registry
		p.(*processor.Processor).MinBackoff = 20 * time.Millisecond
		p.(*processor.Processor).AttemptTimeout = 300 * time.Millisecond
	}
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app}, dsr.NewSubjectHasher([]byte("k")))
	e.eng.Blobs, e.eng.KeyStores, e.eng.Processors = blobs.Engine(), map[string]engine.KeyStore{"cache": e.redis}, procs
	return e
}

func (e *sideEnv) exists(t *testing.T, key string) bool {
	t.Helper()
	n, err := e.redis.Client().Exists(context.Background(), e.pre+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }

// TestErasureFilesKeysProcessors erases Ada: her rows, her CV on disk and
// her redis keys go, the processors are told, a traversal key is refused,
// reported and fails verification, and nobody else's data moves.
func TestErasureFilesKeysProcessors(t *testing.T) {
	ctx := context.Background()
	e := setupSide(t, "deadline: 700ms, best_effort: true")
	j := newJournal()
	req := &dsr.Request{ID: "req-ada", Type: dsr.TypeErasure, Email: ada.email}
	out, err := e.eng.Execute(ctx, req, j)
	if err != nil {
		t.Fatal(err)
	}
	// The refused key's file was never deleted, so verification must not
	// pass: the request fails and names what is left.
	if v := out.Verification; v.Passed || v.Remaining != 1 || v.Found["uploads.files_refused"] != 1 {
		t.Fatalf("verification = %+v; want failed with the one refused file key", out.Verification)
	}
	if out.Counts["app.users"] != 1 || out.Counts["app.uploads"] != 2 || out.Counts["app.messages"] != 3 {
		t.Errorf("counts = %v", out.Counts)
	}
	if out.Counts["uploads.files"] != 1 || out.Counts["cache.keys"] != 4 {
		t.Errorf("files and keys erased = %d, %d; want 1 and 4 (%v)", out.Counts["uploads.files"], out.Counts["cache.keys"], out.Counts)
	}
	if fileExists(filepath.Join(e.uploads, "cv/1.txt")) {
		t.Error("Ada's CV is still on disk")
	}
	for _, p := range []person{grace, tricky, decoy} {
		if !fileExists(filepath.Join(e.uploads, fmt.Sprintf("cv/%d.txt", p.id))) {
			t.Errorf("%s's file was deleted", p.marker)
		}
	}
	if !fileExists(e.outside) {
		t.Fatal("the traversal key was followed: the file outside the bucket is gone")
	}
	if out.Details["files_refused"] != int64(1) {
		t.Errorf("files_refused = %v, want 1 (details %v)", out.Details["files_refused"], out.Details)
	}
	for _, k := range []string{"session:1:web", "session:1:app", "ratelimit:" + ada.email, "prefs:" + ada.email + ":topics"} {
		if e.exists(t, k) {
			t.Errorf("redis key %s is still there", k)
		}
	}
	for _, k := range []string{"session:2:web", "session:11:web", "ratelimit:" + grace.email, "ratelimit:" + decoy.email} {
		if !e.exists(t, k) {
			t.Errorf("redis key %s of someone else was deleted", k)
		}
	}
	calls, bad, bodies := e.llm.snapshot()
	if calls != 3 || bad != 0 {
		t.Errorf("llm saw %d calls (%d badly signed), want 3: two failures then success", calls, bad)
	}
	if len(bodies) > 0 && (!strings.Contains(bodies[0], `"request_id":"req-ada"`) || !strings.Contains(bodies[0], ada.email) || !strings.Contains(bodies[0], `"app.users.id":["1"]`)) {
		t.Errorf("notice = %s", bodies[0])
	}
	if out.Counts["llm.notified"] != 1 || out.Counts["analytics.unconfirmed"] != 1 {
		t.Errorf("processor counts = %v", out.Counts)
	}
	if p, _ := out.Details["processors"].(map[string]string); p["llm"] != "confirmed" || p["analytics"] != "unconfirmed" {
		t.Errorf("processors = %v", out.Details["processors"])
	}
	if s := j.step("notify llm"); s.Status != "confirmed" || s.Count != 3 {
		t.Errorf("journal notify llm = %+v", s)
	}
	if s := j.step("files app.uploads.storage_key"); s.Status != "done" || !strings.Contains(s.Detail, `"refused":1`) {
		t.Errorf("journal files step = %+v", s)
	}

	// Run again on the same journal, as a restarted worker would: nothing
	// more is deleted and no processor is told twice.
	again, err := e.eng.Execute(ctx, req, j)
	if err != nil || again.Verification.Passed || again.Verification.Found["uploads.files_refused"] != 1 {
		t.Fatalf("second run: %v %+v; want the same failed verification", err, again)
	}
	if calls2, _, _ := e.llm.snapshot(); calls2 != calls {
		t.Errorf("the second run notified llm again (%d calls)", calls2)
	}
	if again.Counts["uploads.files"] != 1 {
		t.Errorf("second run counts = %v", again.Counts)
	}
}

// TestErasureFailsOnSilentProcessor: a processor that never answers and is
// not best-effort fails the request, naming it.
func TestErasureFailsOnSilentProcessor(t *testing.T) {
	e := setupSide(t, "deadline: 600ms")
	j := newJournal()
	_, err := e.eng.Execute(context.Background(), &dsr.Request{ID: "req-g", Type: dsr.TypeErasure, Email: grace.email}, j)
	if dsr.ErrorCode(err) != dsr.ECONFLICT || !strings.Contains(dsr.ErrorMessage(err), "processor analytics did not confirm") {
		t.Fatalf("err = %v, want ECONFLICT naming processor analytics", err)
	}
	if strings.Contains(err.Error(), grace.email) {
		t.Errorf("the error names the person: %v", err)
	}
	if s := j.step("notify analytics"); s.Status != "failed" {
		t.Errorf("journal = %+v", s)
	}
	if fileExists(filepath.Join(e.uploads, "cv/2.txt")) {
		t.Error("Grace's file is still there: files go before processors are told")
	}
}

// TestErasureEscapesGlob: an email holding '*', '?' and '[' erases only
// its own rate-limit key, not the one its characters would match as a glob.
func TestErasureEscapesGlob(t *testing.T) {
	e := setupSide(t, "deadline: 700ms, best_effort: true")
	out, err := e.eng.Execute(context.Background(), &dsr.Request{ID: "req-t", Type: dsr.TypeErasure, Email: tricky.email}, newJournal())
	if err != nil || !out.Verification.Passed {
		t.Fatalf("%v %+v", err, out)
	}
	if e.exists(t, "ratelimit:"+tricky.email) {
		t.Error("the tricky address's own key is still there")
	}
	if e.exists(t, "prefs:"+tricky.email+":topics") {
		t.Error("the tricky address's own prefs key is still there")
	}
	for _, k := range []string{"ratelimit:" + decoy.email, "prefs:" + decoy.email + ":topics"} {
		if !e.exists(t, k) {
			t.Errorf("the decoy's key %s was deleted: the email widened the match", k)
		}
	}
}
