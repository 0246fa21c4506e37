package api_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// selfBundle is a service with self-service wired as lethe serve wires
// it: a real SMTP server in-process, packages encrypted in a bucket and
// served back through pkg/export, and a Runner whose Observer is the
// self-service.
type selfBundle struct {
	*bundle
	smtp  *mailtest.Server
	exec  *packageExecutor
	store *state.SelfStore
	svc   *selfservice.Service
	// notices receives every closing notice the Runner's Observer tried.
	notices chan notice
}

// notice is one call of the Runner's Observer: the request and what the
// self-service answered.
type notice struct {
	id  string
	err error
}

// observed is the self-service as the Runner's Observer, telling the test
// on notices of each call once it has returned, so a test waits for the
// attempt itself rather than for a while.
type observed struct {
	svc     *selfservice.Service
	notices chan<- notice
}

func (o observed) RequestEnded(ctx context.Context, r *dsr.Request) error {
	err := o.svc.RequestEnded(ctx, r)
	select {
	case o.notices <- notice{id: r.ID, err: err}:
	default: // nobody waits for so many; never hold the Runner back
	}
	return err
}

// noticeTried waits for the Runner's notice of request id and returns
// its error.
func (b *selfBundle) noticeTried(t *testing.T, id string) error {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case n := <-b.notices:
			if n.id == id {
				return n.err
			}
		case <-timeout:
			t.Fatalf("no closing notice of request %s tried within 20s", id)
		}
	}
}

// packageExecutor stands in for the registry engine: an access request
// gets a real, encrypted package naming its request; an erasure completes
// with verification passed. It counts its calls, so a test can show that
// filing a request looks nothing up.
type packageExecutor struct {
	bucket  *blob.Bucket
	key     []byte
	records *state.ExportStore
	now     func() time.Time
	calls   atomic.Int64
}

func (e *packageExecutor) Execute(ctx context.Context, req *dsr.Request, _ dsr.Journal) (*dsr.Outcome, error) {
	e.calls.Add(1)
	if req.Type == dsr.TypeErasure {
		return &dsr.Outcome{Counts: map[string]int64{"app.users": 1, "app.chats": 2}, Verification: &dsr.Verification{Passed: true}}, nil
	}
	object := req.ID + ".zip.lethe"
	w, err := e.bucket.NewWriter(ctx, object, nil)
	if err != nil {
		return nil, err
	}
	enc, err := export.Encrypt(w, e.key, req.ID)
	if err != nil {
		return nil, err
	}
	z := zip.NewWriter(enc)
	f, err := z.Create("request.txt")
	if err != nil {
		return nil, err
	}
	f.Write([]byte(req.ID))
	if err := z.Close(); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	now := e.now().UTC().Truncate(time.Second)
	rec := &dsr.Export{RequestID: req.ID, Tenant: req.Tenant, Object: object, Entries: 1, CreatedAt: now, ExpiresAt: now.Add(dsr.DefaultExportTTL), KeyID: dsr.KeyID(e.key)}
	if err := e.records.SaveExport(ctx, rec); err != nil {
		return nil, err
	}
	return &dsr.Outcome{Counts: map[string]int64{"app.users": 1}}, nil
}

func setupSelf(t *testing.T, dialect string, limits selfservice.Limits) *selfBundle {
	t.Helper()
	ctx := context.Background()
	b := newBundle(t, dialect)
	db := b.db
	sb := &selfBundle{bundle: b, smtp: mailtest.Start(t), notices: make(chan notice, 256)}

	hasher := dsr.NewSubjectHasher([]byte(subjectKey))
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: hasher, Audit: audit}
	runs := &state.ExecutionStore{DB: db, Audit: audit, Requests: requests}
	records := &state.ExportStore{DB: db}
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	sb.exec = &packageExecutor{bucket: bucket, key: key, records: records, now: b.clock.Now}
	exports := &export.Service{Bucket: bucket, Key: key, Records: records, Requests: requests, Now: b.clock.Now}
	mailer, err := mail.ParseURL(sb.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	sb.store = &state.SelfStore{DB: db, Audit: audit, Requests: requests}
	tenants := registerStudios(t, db, audit, hasher)
	sb.svc = &selfservice.Service{Store: sb.store, Mail: mailer, Subject: hasher, Packages: exports, Exports: records,
		PublicURL: "http://lethe.test", Limits: limits, Studios: tenants, Now: b.clock.Now, Logger: b.logger}
	runner := &dsr.Runner{Store: runs, Executor: sb.exec, Now: b.clock.Now, Logger: b.logger,
		Observer: observed{sb.svc, sb.notices}}
	b.queue, err = queue.New(ctx, queue.Config{DB: db, Runner: runner, Logger: b.logger, Workers: 1, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	requests.Enqueue, sb.store.Enqueue = b.queue.Enqueue, b.queue.Enqueue
	b.srv = &api.Server{
		AdminToken: adminToken, Requests: requests, Keys: &state.KeyService{DB: db, Audit: audit}, Audit: audit,
		Tenants: tenants,
		Ready:   map[string]api.Pinger{"state": db}, Metrics: prometheus.NewRegistry(), Logger: b.logger, Now: b.clock.Now,
		Exports: exports, Self: sb.svc,
	}
	hs := checkedServer(t, b.srv.Handler())
	b.url = hs.URL
	return sb
}

// forEachDialectSelf runs fn in parallel on a fresh self-service bundle
// over each dialect.
func forEachDialectSelf(t *testing.T, limits selfservice.Limits, fn func(t *testing.T, b *selfBundle)) {
	t.Helper()
	testkit.ForEachState(t, func(t *testing.T, dialect string) { fn(t, setupSelf(t, dialect, limits)) })
}

type ticketBody struct {
	ID            string    `json:"id"`
	Status        string    `json:"status"`
	CodeExpiresAt time.Time `json:"code_expires_at"`
}

// ask files a self-service request that must be accepted and returns its
// ticket and the code emailed for it.
func (b *selfBundle) ask(t *testing.T, typ, email, tenant string) (ticketBody, string) {
	t.Helper()
	before := len(b.smtp.Messages())
	body, _ := json.Marshal(map[string]string{"type": typ, "email": email, "tenant": tenant})
	tk := decode[ticketBody](t, b.do(t, "POST", "/v1/self/requests", "", string(body)), http.StatusAccepted)
	// Only code messages count: with the queue started, the closing
	// notice of a request verified just before may arrive meanwhile.
	var codes []mailtest.Message
	for _, m := range b.smtp.Messages()[before:] {
		if m.Subject == "Your privacy request code" {
			codes = append(codes, m)
		}
	}
	if len(codes) != 1 {
		t.Fatalf("%d code messages sent for one request", len(codes))
	}
	m := codes[0]
	if len(m.To) != 1 || m.To[0] != email || m.Code() == "" {
		t.Fatalf("code message to %v, code %q: %s", m.To, m.Code(), m.Body)
	}
	return tk, m.Code()
}

// forgotten waits until request id's address is held nowhere: the notice
// is sent before the outbox row is cleared, so a test that has just seen
// the mail may be a moment early.
func (b *selfBundle) forgotten(t *testing.T, id string) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, "the address forgotten after the notice", func() error {
		if outbox, email := b.selfColumns(t, id); outbox != "" || email != "" {
			return fmt.Errorf("still held (outbox %q, request %q)", outbox, email)
		}
		return nil
	})
}

// verify sends code for request id.
func (b *selfBundle) verify(t *testing.T, id, code string) reply {
	t.Helper()
	return b.do(t, "POST", "/v1/self/requests/"+id+"/verify", "", `{"code":"`+code+`"}`)
}

// wrong returns a six-digit code that is not code.
func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// holdsNoAddress fails t when request id's address is still held, in
// the outbox or in the request row; what says what kept it.
func (b *selfBundle) holdsNoAddress(t *testing.T, id, what string) {
	t.Helper()
	if outbox, email := b.selfColumns(t, id); outbox != "" || email != "" {
		t.Errorf("%s (outbox %q, request %q)", what, outbox, email)
	}
}

// selfColumns returns the outbox address and the request row's email of
// request id ("" for NULL).
func (b *selfBundle) selfColumns(t *testing.T, id string) (outbox, email string) {
	t.Helper()
	q := "SELECT COALESCE(s.email, ''), COALESCE(r.email, '') FROM lethe_self_requests s JOIN lethe_requests r ON r.id = s.request_id WHERE s.request_id = " +
		map[string]string{state.SQLite: "?", state.Postgres: "$1"}[b.dialect]
	if err := b.db.SQL.QueryRow(q, id).Scan(&outbox, &email); err != nil {
		t.Fatal(err)
	}
	return outbox, email
}

// zipEntry returns the content of name in the ZIP body.
func zipEntry(t *testing.T, body []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(strings.NewReader(string(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	for _, f := range z.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var sb strings.Builder
			buf := make([]byte, 512)
			for {
				n, err := rc.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			return sb.String()
		}
	}
	t.Fatalf("ZIP has no %s", name)
	return ""
}
