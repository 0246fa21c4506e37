package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestPlanRoute: a dry run over the demo counts Ada's rows per collection
// and changes nothing; a tenant key plans within its own tenant only.
func TestPlanRoute(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		sw := withRetention(t, b)
		_, coach := b.tenantKey(t, "career-coach")
		wantError(t, b.do(t, "POST", "/v1/plan", adminToken, `{"email":"ada@example.com"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		st, ok := sw.Stores["app"].(connector.Store)
		if !ok {
			t.Fatalf("the demo store is a %T, not an connector.Store", sw.Stores["app"])
		}
		b.srv.Planner = engine.New(sw.Registry, map[string]connector.Store{"app": st}, dsr.NewSubjectHasher([]byte(subjectKey)))
		all := decode[engine.Plan](t, b.do(t, "POST", "/v1/plan", adminToken, `{"email":"ada@example.com"}`), http.StatusOK)
		if all.Total == 0 || len(all.Collections) == 0 {
			t.Fatalf("Ada's plan: %+v", all)
		}
		mine := decode[engine.Plan](t, b.do(t, "POST", "/v1/plan", coach, `{"email":"ada@example.com"}`), http.StatusOK)
		if mine.Total == 0 || mine.Total > all.Total {
			t.Errorf("career-coach's plan counts %d rows of Ada's %d", mine.Total, all.Total)
		}
		wantError(t, b.do(t, "POST", "/v1/plan", coach, `{"email":"ada@example.com","tenant":"calm-mind"}`), http.StatusForbidden, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "POST", "/v1/plan", adminToken, `{"email":"not an address"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "POST", "/v1/plan", "", `{"email":"ada@example.com"}`), http.StatusUnauthorized, dsr.EUNAUTHORIZED)
	})
}

// TestExportRoute: an access request's package downloads once it is
// completed; before, and for another tenant's key, it does not.
func TestExportRoute(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		_, coach := b.tenantKey(t, "career-coach")
		_, calm := b.tenantKey(t, "calm-mind")
		req := b.fileRequest(t, coach, "access", "grace@example.com", "")
		wantError(t, b.do(t, "GET", "/v1/requests/"+req.ID+"/export", coach, ""), http.StatusConflict, dsr.ECONFLICT)
		b.start(t)
		if r := b.ended(t, coach, req.ID); r.Status != "completed" {
			t.Fatalf("request ended %s, want completed", r.Status)
		}
		r := b.do(t, "GET", "/v1/requests/"+req.ID+"/export", coach, "")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" || zipEntry(t, r.body, "request.txt") != req.ID {
			t.Fatalf("export: %d %s", r.status, r.header.Get("Content-Type"))
		}
		wantError(t, b.do(t, "GET", "/v1/requests/"+req.ID+"/export", calm, ""), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "GET", "/v1/requests/"+req.ID+"/export", "", ""), http.StatusUnauthorized, dsr.EUNAUTHORIZED)
	})
}

// TestExportOfRemovedKey: a package whose export key was removed from
// LETHE_EXPORT_KEY and LETHE_EXPORT_KEY_PREVIOUS answers 503 saying what
// to put back; the key's fingerprint, with which a weak key could be
// tested offline, goes to the server log only.
func TestExportOfRemovedKey(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		_, coach := b.tenantKey(t, "career-coach")
		req := b.fileRequest(t, coach, "access", "grace@example.com", "")
		b.start(t)
		if r := b.ended(t, coach, req.ID); r.Status != "completed" {
			t.Fatalf("request ended %s, want completed", r.Status)
		}
		fp := dsr.KeyID(b.exec.key)
		b.srv.Exports = &export.Service{Bucket: b.exec.bucket, Key: bytes.Repeat([]byte{7}, export.KeySize),
			Records: b.exec.records, Requests: b.srv.Requests, Now: b.clock.Now}
		r := b.do(t, "GET", "/v1/requests/"+req.ID+"/export", coach, "")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "LETHE_EXPORT_KEY_PREVIOUS") {
			t.Fatalf("the package of a removed export key: %d %s; want 503 naming LETHE_EXPORT_KEY_PREVIOUS", r.status, r.body)
		}
		if strings.Contains(string(r.body), fp) {
			t.Fatalf("the 503 to the caller names the export key's fingerprint %s: %s", fp, r.body)
		}
		if !strings.Contains(b.logs.String(), fp) {
			t.Fatalf("the server log does not name the export key's fingerprint %s:\n%s", fp, b.logs.String())
		}
	})
}
