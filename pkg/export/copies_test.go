package export_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// outbox is a mailer that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

// last returns the secret (code or link) of the last message to, with
// subject containing what.
func (o *outbox) last(t *testing.T, to, what string) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.sent) - 1; i >= 0; i-- {
		if m := o.sent[i]; m.To == to && strings.Contains(m.Subject, what) {
			return m.Secret
		}
	}
	t.Fatalf("no message %q to the person in %d sent", what, len(o.sent))
	return ""
}

// trail is the whole of Lethe for one test: the demo application, the
// state store of one dialect, the export bucket and self-service.
type trail struct {
	url      string // the state store's
	db       *state.DB
	requests *state.RequestService
	runner   *dsr.Runner
	exports  *export.Service
	self     *selfservice.Service
	mail     *outbox
	bucket   string // the export folder
}

func newTrail(t *testing.T, dialect string) *trail {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	tr := &trail{url: "sqlite://" + filepath.Join(dir, "state.db"), mail: &outbox{}, bucket: filepath.Join(dir, "exports")}
	if dialect == state.Postgres {
		tr.url = testdb.Postgres(t)
	}
	db, err := state.Open(ctx, tr.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tr.db = db
	app := testkit.SeedDemo(t, filepath.Join(dir, "demo"))
	bucket, err := export.OpenBucket(ctx, "file://"+tr.bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })

	hasher := dsr.NewSubjectHasher([]byte("copies-test-subject-key-0123456789"))
	audit := &state.AuditLog{DB: db}
	tr.requests = &state.RequestService{DB: db, Subject: hasher, Audit: audit, Enqueue: noQueue}
	selfStore := &state.SelfStore{DB: db, Audit: audit, Requests: tr.requests, Enqueue: noQueue}
	tr.exports = &export.Service{Bucket: bucket, Key: bytes.Repeat([]byte{7}, export.KeySize),
		Records: &state.ExportStore{DB: db}, Requests: tr.requests, Now: time.Now}
	tr.self = &selfservice.Service{Store: selfStore, Mail: tr.mail, Subject: hasher, PublicURL: "https://privacy.example",
		Packages: tr.exports, Exports: &state.ExportStore{DB: db}, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
	eng := engine.New(app.Registry, app.Stores.Engine(), hasher)
	eng.Blobs, eng.Exporter = app.Blobs.Engine(), tr.exports
	eng.Copies = &export.Copies{Bucket: bucket, Records: &state.Copies{DB: db, Self: selfStore}}
	tr.runner = &dsr.Runner{Store: &state.ExecutionStore{DB: db, Audit: audit, Requests: tr.requests}, Executor: eng,
		Now: time.Now, Logger: slog.New(slog.DiscardHandler), Observer: tr.self}
	return tr
}

// run executes request id as a queue worker would, and returns it.
func (tr *trail) run(t *testing.T, id string) *dsr.Request {
	t.Helper()
	if err := tr.runner.Run(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
	r, err := tr.requests.Get(context.Background(), dsr.Caller{Admin: true}, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// selfService asks for typ as the person, verifies with the emailed code
// and runs the request.
func (tr *trail) selfService(t *testing.T, typ dsr.Type, email string) *dsr.Request {
	t.Helper()
	ctx := context.Background()
	ticket, err := tr.self.Ask(ctx, dsr.SelfAsk{Type: typ, Email: email, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.self.Verify(ctx, ticket.ID, tr.mail.last(t, email, "code"), "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	return tr.run(t, ticket.ID)
}

// TestErasureLeavesNoCopyInLethe: Ada gets her data twice (through
// self-service, with an emailed link, and through the admin), then has it
// erased. Afterwards her packages are gone from the bucket, both ways to
// download them answer 410 saying why, the erasure counted and verified
// Lethe's own stores, and her address, which is also the primary key of
// app.newsletter (so it was frozen as a key), is found nowhere in the
// state store: not in the SQLite file's bytes, not in any Postgres table.
func TestErasureLeavesNoCopyInLethe(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		tr := newTrail(t, dialect)
		const ada = "ada@example.com"
		admin := dsr.Caller{Admin: true}

		mine := tr.selfService(t, dsr.TypeAccess, ada)
		if mine.Status != dsr.StatusCompleted {
			t.Fatalf("self-service access: %s %+v", mine.Status, mine.Err)
		}
		link := tr.mail.last(t, ada, "ready")
		token := link[strings.LastIndex(link, "/")+1:]
		if _, body, err := tr.self.Download(ctx, token); err != nil {
			t.Fatalf("the link does not work before the erasure: %v", err)
		} else {
			body.Close()
		}
		byAdmin, _, err := tr.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeAccess, Email: ada})
		if err != nil {
			t.Fatal(err)
		}
		if r := tr.run(t, byAdmin.ID); r.Status != dsr.StatusCompleted {
			t.Fatalf("admin access: %s %+v", r.Status, r.Err)
		}
		if n := len(bucketFiles(t, tr.bucket)); n != 2 {
			t.Fatalf("%d packages in the bucket before the erasure, want 2", n)
		}

		erased := tr.selfService(t, dsr.TypeErasure, ada)
		if erased.Status != dsr.StatusCompleted || !erased.Verification.Passed {
			t.Fatalf("erasure: %s %+v %+v", erased.Status, erased.Verification, erased.Err)
		}
		if erased.Counts["lethe.exports"] != 2 || erased.Counts["app.newsletter"] != 1 {
			t.Errorf("erasure counts = %v; want both packages and the newsletter row", erased.Counts)
		}
		tr.mail.last(t, ada, "erased") // the closing notice went out before the address was forgotten

		if files := bucketFiles(t, tr.bucket); len(files) != 0 {
			t.Errorf("packages left in the bucket: %v", files)
		}
		_, _, err = tr.self.Download(ctx, token)
		if dsr.ErrorCode(err) != dsr.EGONE || !strings.Contains(dsr.ErrorMessage(err), "erased") {
			t.Errorf("the emailed link after the erasure: %v; want gone, saying the data was erased", err)
		}
		_, _, err = tr.exports.Open(ctx, admin, byAdmin.ID)
		if dsr.ErrorCode(err) != dsr.EGONE || !strings.Contains(dsr.ErrorMessage(err), erased.ID) {
			t.Errorf("GET /v1/requests/{id}/export after the erasure: %v; want gone, naming the erasure", err)
		}
		if leaks := findAddress(t, tr, ada); len(leaks) > 0 {
			t.Errorf("the erased address is still in Lethe's state store: %v", leaks)
		}
	})
}

// noQueue stands in for the job queue: the test runs requests itself.
func noQueue(context.Context, *sql.Tx, string) error { return nil }

func bucketFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// findAddress returns where addr (in any case) is found in the state store:
// SQLite's database and journal files byte by byte, or the text of every
// row of every Postgres table of the test's schema.
func findAddress(t *testing.T, tr *trail, addr string) []string {
	t.Helper()
	needle := []byte(strings.ToLower(addr))
	var out []string
	if path, ok := strings.CutPrefix(tr.url, "sqlite://"); ok {
		for _, p := range []string{path, path + "-wal", path + "-journal"} {
			b, err := os.ReadFile(p)
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(bytes.ToLower(b), needle) {
				out = append(out, filepath.Base(p))
			}
		}
		return out
	}
	var tables []string
	if err := tr.db.Gorm.Raw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables found in the state store's schema: %v", len(tables), tables)
	}
	for _, table := range tables {
		var n int64
		q := `SELECT count(*) FROM "` + table + `" AS t WHERE position(? in lower(t::text)) > 0`
		if err := tr.db.Gorm.Raw(q, string(needle)).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			out = append(out, table)
		}
	}
	return out
}

// TestCopiesScope: an erasure within one tenant deletes that tenant's
// packages of the person only; FindCopies names what is left (a package
// record not deleted, a package object still in the bucket, a clear
// address in an ended request's self-service row) until EraseCopies runs,
// and a request still waiting for its code is cancelled by it.
func TestCopiesScope(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		tr := newTrail(t, dialect)
		const ada = "ada@example.com"
		admin := dsr.Caller{Admin: true}
		bucket, err := export.OpenBucket(ctx, "file://"+tr.bucket)
		if err != nil {
			t.Fatal(err)
		}
		defer bucket.Close()
		pkg := func(tenant, email string) *dsr.Request {
			r, _, err := tr.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeAccess, Email: email, Tenant: tenant})
			if err != nil {
				t.Fatal(err)
			}
			if err := bucket.WriteAll(ctx, r.ID+".zip.lethe", []byte("sealed"), nil); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if err := (&state.ExportStore{DB: tr.db}).SaveExport(ctx, &dsr.Export{RequestID: r.ID, Tenant: tenant,
				Object: r.ID + ".zip.lethe", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		coach, calm, grace := pkg("career-coach", ada), pkg("calm-mind", ada), pkg("career-coach", "grace@example.com")
		ticket, err := tr.self.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeAccess, Email: ada, Tenant: "career-coach", IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		erasure, _, err := tr.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeErasure, Email: ada, Tenant: "career-coach"})
		if err != nil {
			t.Fatal(err)
		}
		records := &state.Copies{DB: tr.db, Self: &state.SelfStore{DB: tr.db, Audit: &state.AuditLog{DB: tr.db}, Requests: tr.requests}}
		copies := &export.Copies{Bucket: bucket, Records: records}
		scope := dsr.CopyScope{RequestID: erasure.ID, Tenant: "career-coach", Subjects: []dsr.Subject{erasure.Subject}}

		left, err := copies.FindCopies(ctx, scope)
		if err != nil || left["lethe.exports"] != 1 || left["lethe.self_requests"] != 1 || left["lethe.requests"] != 1 {
			t.Fatalf("before the erasure FindCopies = %v, %v; want the tenant's package and the waiting request's address", left, err)
		}
		// A process without the export bucket refuses, and marks nothing
		// erased that is still in the bucket.
		if _, err := (&export.Copies{Records: records}).EraseCopies(ctx, scope); dsr.ErrorCode(err) != dsr.EUNAVAILABLE {
			t.Fatalf("EraseCopies without a bucket = %v, want EUNAVAILABLE", err)
		}
		if left, err := copies.FindCopies(ctx, scope); err != nil || left["lethe.exports"] != 1 {
			t.Fatalf("after a refused EraseCopies FindCopies = %v, %v; want the package still named", left, err)
		}
		removed, err := copies.EraseCopies(ctx, scope)
		if err != nil || removed["lethe.exports"] != 1 || removed["lethe.self_requests"] != 1 {
			t.Fatalf("EraseCopies = %v, %v", removed, err)
		}
		if left, err := copies.FindCopies(ctx, scope); err != nil || len(left) != 0 {
			t.Errorf("after EraseCopies FindCopies = %v, %v; want nothing", left, err)
		}
		for id, want := range map[string]bool{coach.ID: false, calm.ID: true, grace.ID: true} {
			if ok, _ := bucket.Exists(ctx, id+".zip.lethe"); ok != want {
				t.Errorf("package %s exists = %v, want %v", id, ok, want)
			}
		}
		if r, _ := tr.requests.Get(ctx, admin, ticket.ID); r.Status != dsr.StatusCancelled {
			t.Errorf("the request waiting for its code is %s, want cancelled", r.Status)
		}
		// A package object put back behind the record's back is found.
		if err := bucket.WriteAll(ctx, coach.ID+".zip.lethe", []byte("sealed"), nil); err != nil {
			t.Fatal(err)
		}
		if left, err := copies.FindCopies(ctx, scope); err != nil || left["lethe.exports"] != 1 {
			t.Errorf("FindCopies with the object back = %v, %v; want the package named", left, err)
		}
	})
}
