package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const (
	adminToken = "admin-token-for-api-tests-0123456789"
	subjectKey = "api-test-subject-key-0123456789abcdef"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// bundle is one test's running service: state store, queue (not started),
// server and a real listener.
type bundle struct {
	dialect string
	db      *state.DB
	clock   *testkit.Clock
	queue   *queue.Queue
	srv     *api.Server
	url     string
	logs    *testkit.Buffer
	logger  *slog.Logger

	mu      sync.Mutex
	replies []string // every response body, for the email check
}

// newBundle opens a fresh state store of dialect on the bundle's clock,
// with a logger that keeps everything in b.logs.
func newBundle(t *testing.T, dialect string) *bundle {
	t.Helper()
	db, err := state.Open(context.Background(), testkit.StateURL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{dialect: dialect, db: db, clock: testkit.NewClock(t0), logs: &testkit.Buffer{}}
	b.logger = slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db.Now = b.clock.Now
	return b
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	ctx := context.Background()
	b := newBundle(t, dialect)
	db := b.db
	var err error

	hasher := dsr.NewSubjectHasher([]byte(subjectKey))
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: hasher, Audit: audit}
	runs := &state.ExecutionStore{DB: db, Audit: audit, Requests: requests}
	runner := &dsr.Runner{Store: runs, Executor: dsr.NoRegistryExecutor{}, Now: b.clock.Now, Logger: b.logger}
	b.queue, err = queue.New(ctx, queue.Config{DB: db, Runner: runner, Logger: b.logger, Workers: 1, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	requests.Enqueue = b.queue.Enqueue

	reg := prometheus.NewRegistry()
	reg.MustRegister(api.NewRequestCollector(&state.Stats{DB: db}))
	b.srv = &api.Server{
		AdminToken: adminToken, Requests: requests, Keys: &state.KeyService{DB: db, Audit: audit}, Audit: audit,
		Tenants: registerStudios(t, db, audit, hasher),
		Ready:   map[string]api.Pinger{"state": db}, Metrics: reg, Logger: b.logger, Now: b.clock.Now,
		Steps: func(ctx context.Context, id string) ([]dsr.Step, error) { return runs.Journal(id).Steps(ctx) },
	}
	hs := checkedServer(t, b.srv.Handler())
	b.url = hs.URL
	return b
}

// start starts the queue's workers until the test ends.
func (b *bundle) start(t *testing.T) {
	t.Helper()
	if err := b.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.queue.Stop(ctx)
	})
}

// forEachDialect runs fn in parallel on a fresh service over each dialect.
func forEachDialect(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	testkit.ForEachState(t, func(t *testing.T, dialect string) { fn(t, setup(t, dialect)) })
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request over the real listener. hdr holds extra header
// name/value pairs; token "" sends no Authorization.
func (b *bundle) call(t *testing.T, method, path, token string, body io.Reader, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.replies = append(b.replies, string(out))
	b.mu.Unlock()
	return reply{status: res.StatusCode, header: res.Header, body: out}
}

// do sends a JSON body given as a string ("" for none).
func (b *bundle) do(t *testing.T, method, path, token, body string, hdr ...string) reply {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return b.call(t, method, path, token, r, hdr...)
}

// decode unmarshals a reply that must have status want.
func decode[T any](t *testing.T, r reply, want int) T {
	t.Helper()
	var v T
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("reply is not JSON: %v: %s", err, r.body)
	}
	return v
}

// wantError checks status and the one error shape, {"error":{"code","message"}}
// and nothing else, and returns the message.
func wantError(t *testing.T, r reply, status int, code string) string {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var shape map[string]map[string]any
	if err := json.Unmarshal(r.body, &shape); err != nil || len(shape) != 1 || len(shape["error"]) != 2 {
		t.Fatalf("error body is not {\"error\":{\"code\",\"message\"}}: %s", r.body)
	}
	msg, _ := shape["error"]["message"].(string)
	if shape["error"]["code"] != code || msg == "" {
		t.Fatalf("error %s, want code %q and a message", r.body, code)
	}
	return msg
}

// requestBody is the request shape scripts read.
// ended waits until request id, read with token, has ended (a terminal
// status) and returns it.
func (b *bundle) ended(t *testing.T, token, id string) requestBody {
	t.Helper()
	var r requestBody
	testkit.Eventually(t, 20*time.Second, "request "+id+" ended", func() error {
		r = decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+id, token, ""), http.StatusOK)
		if !dsr.Status(r.Status).Terminal() {
			return fmt.Errorf("still %s", r.Status)
		}
		return nil
	})
	return r
}

type requestBody struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Status       string            `json:"status"`
	Tenant       string            `json:"tenant"`
	CreatedAt    time.Time         `json:"created_at"`
	DueAt        time.Time         `json:"due_at"`
	Overdue      bool              `json:"overdue"`
	ExtendedDays int               `json:"extended_days"`
	Counts       map[string]int64  `json:"counts"`
	Verification *dsr.Verification `json:"verification"`
	Error        *dsr.Error        `json:"error"`
}

type listBody struct {
	Items      []requestBody `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// fileRequest posts a request that must be accepted.
func (b *bundle) fileRequest(t *testing.T, token, typ, email, tenant string) requestBody {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"type": typ, "email": email, "tenant": tenant})
	return decode[requestBody](t, b.do(t, "POST", "/v1/requests", token, string(body)), http.StatusAccepted)
}

// tenantKey issues a tenant key through the API and returns id and token.
func (b *bundle) tenantKey(t *testing.T, tenant string) (string, string) {
	t.Helper()
	k := decode[dsr.TenantKey](t, b.do(t, "POST", "/v1/tenants/"+tenant+"/keys", adminToken, ""), http.StatusCreated)
	if k.Token == "" || k.ID == "" || k.Tenant != tenant {
		t.Fatalf("created key %+v", k)
	}
	return k.ID, k.Token
}

// rows counts what a refused call must not write: requests, audit entries
// and queued jobs.
func (b *bundle) rows(t *testing.T) [3]int64 {
	t.Helper()
	var out [3]int64
	for i, table := range []string{"lethe_requests", "lethe_audit", "river_job"} {
		if err := b.db.Gorm.Raw("SELECT count(*) FROM " + table).Scan(&out[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// studios are the tenants every API test may name; anything else is a slug
// nobody registered.
var studios = []string{"studio-a", "studio-b", "calm-mind", "career-coach", "studio-secret-name", "acme", "globex"}

// registerStudios registers studios in a fresh state store as the upgrade
// migration registers existing tenants: rows only, so that the audit trail
// the tests count starts empty. It returns the registry the server checks
// tenants against.
func registerStudios(t *testing.T, db *state.DB, audit *state.AuditLog, hasher *dsr.SubjectHasher) *state.Tenants {
	t.Helper()
	for _, slug := range studios {
		if err := db.Gorm.Exec(`INSERT INTO lethe_tenants (slug, display_name, created_at, updated_at, updated_by)
			VALUES (?, ?, ?, ?, 'test')`, slug, slug, t0, t0).Error; err != nil {
			t.Fatal(err)
		}
	}
	return &state.Tenants{DB: db, Audit: audit, Subject: hasher}
}

// auditEntries returns the newest thousand entries of b's audit trail.
func (b *bundle) auditEntries(t *testing.T) []*dsr.AuditEntry {
	t.Helper()
	entries, err := (&state.AuditLog{DB: b.db}).List(context.Background(), dsr.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
