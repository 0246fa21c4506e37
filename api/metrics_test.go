package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
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
		if r := b.do(t, "POST", "/v1/requests/"+ids[0]+"/cancel", adminToken, `{"reason":"no longer wanted"}`); r.status != http.StatusOK {
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
		Tenants: b.srv.Tenants, Ready: b.srv.Ready, Logger: b.logger, Now: b.clock.Now}
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
		b.clock.Advance(api.ReadyTTL) // past the cached answer
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

// countingPinger counts the pings that reach the store it wraps.
type countingPinger struct {
	api.Pinger
	n atomic.Int64
}

func (p *countingPinger) Ping(ctx context.Context) error {
	p.n.Add(1)
	return p.Pinger.Ping(ctx)
}

// TestReadyzCachesPings: /readyz pings the stores at most once per
// api.ReadyTTL by the server's clock, concurrent calls included, and a
// store that goes down shows once the cached answer is older than that.
func TestReadyzCachesPings(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	pinger := &countingPinger{Pinger: b.db}
	b.srv.Ready["state"] = pinger
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := b.do(t, "GET", "/readyz", "", ""); r.status != http.StatusOK {
				t.Errorf("/readyz: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if n := pinger.n.Load(); n != 1 {
		t.Fatalf("8 calls pinged the store %d times, want 1", n)
	}
	b.clock.Advance(api.ReadyTTL - time.Millisecond)
	if err := b.db.Close(); err != nil {
		t.Fatal(err)
	}
	if r := b.do(t, "GET", "/readyz", "", ""); r.status != http.StatusOK || pinger.n.Load() != 1 {
		t.Fatalf("/readyz within the TTL: %d, %d pings; want the cached 200 and no ping", r.status, pinger.n.Load())
	}
	b.clock.Advance(time.Millisecond)
	if r := b.do(t, "GET", "/readyz", "", ""); r.status != http.StatusServiceUnavailable || pinger.n.Load() != 2 {
		t.Fatalf("/readyz after the TTL: %d, %d pings; want 503 from a new ping", r.status, pinger.n.Load())
	}
}

// TestMetricsLabelsBounded floods the real server with 20,000
// unauthenticated requests of random methods and paths (the attack that
// grew /metrics from 92 KB to 43.5 MB), in two rounds of 10,000 drawn
// alike: the first reaches every series such requests can make, so the
// second must not grow /metrics, and every latency label is one the
// server knows.
func TestMetricsLabelsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	size := func() int {
		r := b.do(t, "GET", "/metrics", "", "", "Accept-Encoding", "identity")
		if r.status != http.StatusOK {
			t.Fatalf("/metrics: %d", r.status)
		}
		return len(r.body)
	}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	flood := func(seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed))
		word := func(letters string, n int) string {
			out := make([]byte, n)
			for i := range out {
				out[i] = letters[rng.IntN(len(letters))]
			}
			return string(out)
		}
		type call struct{ method, path string }
		calls := make(chan call)
		go func() {
			defer close(calls)
			for i := range 10_000 {
				m := methods[rng.IntN(len(methods))]
				if i%2 == 0 {
					m = "X" + word("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2+rng.IntN(6)) // never a known method
				}
				var p string
				switch i % 3 {
				case 0:
					p = "/" + word("abcdefghijklmnopqrstuvwxyz0123456789", 1+rng.IntN(12)) + "/" + word("abcdefghijklmnopqrstuvwxyz", rng.IntN(12))
				case 1:
					p = "/v1/requests/" + word("0123456789abcdef", 8)
				default:
					p = "/v1/tenants/" + word("abcdefghijklmnopqrstuvwxyz", 6) + "/settings"
				}
				calls <- call{m, p}
			}
		}()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for c := range calls {
					req, err := http.NewRequest(c.method, b.url+c.path, nil)
					if err != nil {
						t.Error(err)
						continue
					}
					res, err := client.Do(req)
					if err != nil {
						t.Error(err)
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	before := size()
	flood(1)
	first := size()
	flood(2)
	second := size()
	t.Logf("/metrics: %d bytes before, %d after 10,000 requests, %d after 20,000", before, first, second)
	if second > first+first/50 {
		t.Errorf("/metrics grew from %d to %d bytes with the second 10,000 requests", first, second)
	}
	e := b.srv.Handler().(*echo.Echo)
	routes := map[string]bool{"unmatched": true}
	for _, r := range e.Routes() {
		routes[r.Path] = true
	}
	known := map[string]bool{"other": true}
	for _, m := range methods {
		known[m] = true
	}
	series := b.scrape(t)["lethe_http_request_duration_seconds"].GetMetric()
	for _, m := range series {
		l := labels(m)
		if !known[l["method"]] || !routes[l["route"]] || len(l["status"]) != 3 {
			t.Errorf("a latency series with unbounded labels: %v", l)
		}
	}
	if len(series) > 60 {
		t.Errorf("%d latency series after the flood", len(series))
	}
}

// TestMetricsScrapeSurvivesAFailedRead: a collector whose read of the
// state store fails leaves its own figures out of the scrape, not every
// other one: the anchor's divergence and the request counters are still
// served, with status 200.
func TestMetricsScrapeSurvivesAFailedRead(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		w := api.NewWatchCollector()
		w.Processes = func(context.Context) (int64, int64, error) { return 0, 0, errors.New("the state store is away") }
		w.AnchorDiverged = func(context.Context) (bool, error) { return true, nil }
		b.srv.Metrics.MustRegister(w)
		fams := b.scrape(t)
		if _, ok := fams["lethe_processes_live"]; ok {
			t.Errorf("lethe_processes_live served from a failed read")
		}
		d := fams["lethe_audit_anchor_diverged"]
		if d == nil || len(d.GetMetric()) != 1 || d.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("lethe_audit_anchor_diverged = %v; want 1, served beside the failed read", d)
		}
	})
}
