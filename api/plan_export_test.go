package api_test

import (
	"net/http"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
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
