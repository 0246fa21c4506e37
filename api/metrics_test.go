package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// scrape reads /metrics in the Prometheus text format.
func (b *bundle) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r := b.do(t, "GET", "/metrics", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, r.body)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		keyID, token := b.tenantKey(t, "studio-secret-name")
		var ids []string
		for _, f := range []struct{ token, typ string }{
			{adminToken, "erasure"}, {adminToken, "erasure"}, {adminToken, "access"}, {token, "erasure"},
		} {
			ids = append(ids, b.fileRequest(t, f.token, f.typ, "vera@example.com", "").ID)
		}
		if r := b.do(t, "POST", "/v1/requests/"+ids[0]+"/cancel", adminToken, ""); r.status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		b.do(t, "GET", "/v1/requests/"+ids[1], token, "")                                      // 404: another tenant's
		b.do(t, "GET", "/v1/requests/"+ids[3], token, "")                                      // 200
		b.do(t, "GET", "/v1/requests/0190f3a0-0000-7000-8000-00000000beef/nothing", token, "") // unmatched

		fams := b.scrape(t)
		got := map[string]float64{}
		for _, m := range fams["lethe_requests"].GetMetric() {
			l := labels(m)
			got[l["type"]+"/"+l["status"]] = m.GetGauge().GetValue()
		}
		want := map[string]float64{"erasure/pending": 2, "erasure/cancelled": 1, "access/pending": 1}
		if len(got) != len(want) {
			t.Errorf("lethe_requests %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("lethe_requests %v, want %v", got, want)
			}
		}
		overdue := func() float64 {
			ms := b.scrape(t)["lethe_requests_overdue"].GetMetric()
			if len(ms) != 1 {
				t.Fatalf("lethe_requests_overdue has %d series", len(ms))
			}
			return ms[0].GetGauge().GetValue()
		}
		if n := overdue(); n != 0 {
			t.Errorf("lethe_requests_overdue = %v before any deadline, want 0", n)
		}
		b.clock.Advance(31 * 24 * time.Hour)
		if n := overdue(); n != 3 {
			t.Errorf("lethe_requests_overdue = %v past the deadlines, want 3 (the open requests)", n)
		}

		routes := map[string]bool{}
		for _, m := range fams["lethe_http_request_duration_seconds"].GetMetric() {
			l := labels(m)
			routes[l["method"]+" "+l["route"]+" "+l["status"]] = true
			for _, v := range l {
				for _, raw := range append(ids, keyID, "studio-secret-name", "beef") {
					if strings.Contains(v, raw) {
						t.Errorf("a latency label holds a raw path part %q: %v", raw, l)
					}
				}
			}
		}
		for _, r := range []string{
			"POST /v1/requests 202", "GET /v1/requests/:id 200", "GET /v1/requests/:id 404",
			"POST /v1/requests/:id/cancel 200", "POST /v1/tenants/:tenant/keys 201",
		} {
			if !routes[r] {
				t.Errorf("no latency series for %q; have %v", r, routes)
			}
		}
	})
}

// TestMetricsWithoutRegistry checks that a server given no registry still
// exports its HTTP latencies.
func TestMetricsWithoutRegistry(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	srv := &api.Server{AdminToken: adminToken, Requests: b.srv.Requests, Keys: b.srv.Keys, Audit: b.srv.Audit,
		Ready: b.srv.Ready, Logger: b.logger, Now: b.clock.Now}
	hs := checkedServer(t, srv.Handler())
	b.url = hs.URL
	b.do(t, "GET", "/healthz", "", "")
	if fams := b.scrape(t); len(fams["lethe_http_request_duration_seconds"].GetMetric()) == 0 {
		t.Error("no lethe_http_request_duration_seconds series")
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		if r := decode[map[string]string](t, b.do(t, "GET", "/healthz", "", ""), http.StatusOK); r["status"] != "ok" {
			t.Errorf("/healthz: %v", r)
		}
		type ready struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
			Down   []string          `json:"down"`
		}
		if r := decode[ready](t, b.do(t, "GET", "/readyz", "", ""), http.StatusOK); r.Status != "ok" || r.Checks["state"] != "ok" {
			t.Errorf("/readyz with the store up: %+v", r)
		}
		if err := b.db.Close(); err != nil {
			t.Fatal(err)
		}
		r := decode[ready](t, b.do(t, "GET", "/readyz", "", ""), http.StatusServiceUnavailable)
		if r.Status != "unavailable" || r.Checks["state"] != "unreachable" || len(r.Down) != 1 || r.Down[0] != "state" {
			t.Errorf("/readyz with the store closed: %+v, want 503 naming state", r)
		}
		if err := b.db.Ping(context.Background()); err == nil {
			t.Error("the closed store still answers")
		}
		if h := b.do(t, "GET", "/healthz", "", ""); h.status != http.StatusOK {
			t.Errorf("/healthz with the store down: %d, want 200 (liveness is not readiness)", h.status)
		}
	})
}
