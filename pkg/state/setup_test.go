package state_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const subjectKey = "state-test-subject-key-0123456789abcdef"

// t0 is the injected clock's start; its nanoseconds check that stored times
// are truncated to the microsecond both dialects keep.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

var (
	admin = dsr.Caller{Admin: true}
	anon  = dsr.Caller{}
)

func tenantCaller(tenant string) dsr.Caller {
	return dsr.Caller{Tenant: tenant, KeyID: "key-" + tenant}
}

// bundle is one test's state store and the services over it.
type bundle struct {
	dialect  string
	url      string
	db       *state.DB
	clock    *testkit.Clock
	hasher   *dsr.SubjectHasher
	audit    *state.AuditLog
	requests *state.RequestService
	runs     *state.ExecutionStore
	keys     *state.KeyService

	mu       sync.Mutex
	enqueued []string
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	b := &bundle{dialect: dialect, url: testkit.StateURL(t, dialect), clock: testkit.NewClock(t0),
		hasher: dsr.NewSubjectHasher([]byte(subjectKey))}
	db, err := state.Open(context.Background(), b.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = b.clock.Now
	b.db = db
	b.audit = &state.AuditLog{DB: db}
	b.requests = &state.RequestService{DB: db, Subject: b.hasher, Audit: b.audit, Enqueue: b.enqueue}
	b.runs = &state.ExecutionStore{DB: db, Audit: b.audit, Requests: b.requests}
	b.keys = &state.KeyService{DB: db, Audit: b.audit}
	return b
}

// forEachDialect runs fn in parallel on a fresh bundle of each dialect.
func forEachDialect(t *testing.T, fn func(t *testing.T, b *bundle)) {
	t.Helper()
	testkit.ForEachState(t, func(t *testing.T, dialect string) { fn(t, setup(t, dialect)) })
}

// enqueue stands in for the job queue's insert: it checks that it runs in
// the transaction that already holds the request's row, and records the id.
func (b *bundle) enqueue(ctx context.Context, tx *sql.Tx, id string) error {
	q := "SELECT count(*) FROM lethe_requests WHERE id = ?"
	if b.dialect == state.Postgres {
		q = "SELECT count(*) FROM lethe_requests WHERE id = $1"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, id).Scan(&n); err != nil {
		return err
	} else if n != 1 {
		return errors.New("enqueue: the request's row is not in this transaction")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enqueued = append(b.enqueued, id)
	return nil
}

func (b *bundle) enqueuedIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.enqueued...)
}

// create files a request that must succeed.
func (b *bundle) create(t *testing.T, c dsr.Caller, typ dsr.Type, email, tenant string) *dsr.Request {
	t.Helper()
	r, created, err := b.requests.Create(context.Background(), c, dsr.NewRequest{Type: typ, Email: email, Tenant: tenant})
	if err != nil || !created {
		t.Fatalf("create %s for %q: created=%v err=%v", typ, tenant, created, err)
	}
	return r
}

// count returns the number of rows of table matching where (dialect-neutral
// "?" placeholders).
func (b *bundle) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	if where == "" {
		where = "1 = 1"
	}
	var n int64
	if err := b.db.Gorm.Raw("SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// exec runs raw SQL against the store, as someone tampering with it would.
func (b *bundle) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := b.db.Gorm.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rowCounts is the number of rows in the tables a failed call must not touch.
type rowCounts struct{ requests, audit, enqueued int64 }

func (b *bundle) rowCounts(t *testing.T) rowCounts {
	t.Helper()
	return rowCounts{b.count(t, "lethe_requests", ""), b.count(t, "lethe_audit", ""), int64(len(b.enqueuedIDs()))}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := dsr.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// subjectOf computes HMAC-SHA256(audit key, lower(email)) independently of
// dsr, the audit key being HKDF-SHA256(key, info "lethe/subject/audit").
func subjectOf(email string) dsr.Subject {
	auditKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, []byte(subjectKey), nil, []byte("lethe/subject/audit")), auditKey); err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte(strings.ToLower(email)))
	return dsr.Subject(hex.EncodeToString(m.Sum(nil)))
}

func ids(rs []*dsr.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func jsonLogger(w *testkit.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func unkeyedSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
