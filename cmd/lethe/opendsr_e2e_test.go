package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// controller is the test's OpenDSR controller: it receives callbacks and
// keeps, per subject_request_id, the statuses whose signature verified.
type controller struct {
	t    *testing.T
	cert []byte
	mu   sync.Mutex
	got  map[string][]string
	bad  []string
	// flaky answers 503 to the first "completed" callback it receives.
	flakyFailed bool
}

func (c *controller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.URL.Path == "/flaky" && !c.flakyFailed && bytes.Contains(raw, []byte(`"request_status":"completed"`)) {
		c.flakyFailed = true
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	domainH, sigH := opendsr.Headers(r.URL.Path == "/legacy")
	// §8.8: verify the raw body before parsing it.
	if err := opendsr.Verify(c.cert, raw, r.Header.Get(sigH)); err != nil || r.Header.Get(domainH) == "" {
		c.bad = append(c.bad, r.URL.Path+": "+string(raw))
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var body opendsr.Status
	if err := json.Unmarshal(raw, &body); err != nil || !strings.HasSuffix(body.StatusCallbackURL, r.URL.Path) {
		c.bad = append(c.bad, "callback body "+string(raw))
	}
	c.got[body.SubjectRequestID] = append(c.got[body.SubjectRequestID], body.RequestStatus)
	w.WriteHeader(http.StatusNoContent)
}

func (c *controller) statuses(id string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got[id]...)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestOpenDSRController plays an OpenDSR controller against the demo
// server: it files each request type with raw and sha256 identities (on
// the OpenDSR and the legacy OpenGDPR routes, with the admin token and a
// tenant key), receives the signed callbacks and verifies them with the
// certificate from discovery, polls to completed, downloads results_url,
// and repeats an id.
func TestOpenDSRController(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "opendsr.pem")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startDemo(t, "--opendsr-key", keyFile)
	out, code := s.lethe(t, "keys", "create", "--tenant", "calm-mind")
	if code != 0 || !strings.Contains(out, "lethe_") {
		t.Fatalf("keys create: exit %d: %s", code, out)
	}
	tenantToken := strings.TrimSpace(out[strings.LastIndex(out, "lethe_"):])

	var disc opendsr.Discovery
	if code := s.call(t, "GET", "/opendsr/v2/discovery", "", &disc); code != http.StatusOK || disc.APIVersion != "2.0" {
		t.Fatalf("discovery: %d %+v", code, disc)
	}
	resp, err := http.Get(disc.ProcessorCertificate)
	if err != nil {
		t.Fatal(err)
	}
	ctrl := &controller{t: t, got: map[string][]string{}}
	ctrl.cert, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(ctrl.cert, []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("processor_certificate serves %q", ctrl.cert)
	}
	recv := httptest.NewServer(ctrl)
	defer recv.Close()

	type filed struct {
		id, path, token, typ string
		identity             opendsr.Identity
		callback             string
		tenant               string
	}
	raw := func(e string) opendsr.Identity { return opendsr.Identity{Type: "email", Value: e, Format: "raw"} }
	hashed := func(e string) opendsr.Identity {
		return opendsr.Identity{Type: "email", Value: sha256Hex(dsr.FoldEmail(e)), Format: "sha256"}
	}
	reqs := []filed{
		{"11111111-1111-4111-8111-111111111111", "/opendsr/v2/requests", s.token, "access", raw("grace@example.com"), "/cb", ""},
		{"22222222-2222-4222-8222-222222222222", "/opendsr/v2/requests", s.token, "portability", hashed("KATHERINE@Example.com"), "/flaky", ""},
		{"33333333-3333-4333-8333-333333333333", "/opendsr/v2/requests", tenantToken, "erasure", hashed("alan@example.com"), "/cb", "calm-mind"},
		{"44444444-4444-4444-8444-444444444444", "/opendsr/v2/requests", s.token, "erasure", raw("ada@example.com"), "/cb", ""},
		{"55555555-5555-4555-8555-555555555555", "/opengdpr_requests", s.token, "access", hashed("grace@example.com"), "/legacy", ""},
	}
	body := func(f filed) string {
		m := map[string]any{"subject_request_id": f.id, "subject_request_type": f.typ, "submitted_time": "2026-01-02T03:04:05Z",
			"subject_identities": []opendsr.Identity{f.identity}, "status_callback_urls": []string{recv.URL + f.callback}}
		if f.path == "/opengdpr_requests" {
			m["api_version"] = "1.0"
		} else {
			m["api_version"], m["regulation"] = "2.0", "gdpr"
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	first := map[string]opendsr.Created{}
	for _, f := range reqs {
		var c opendsr.Created
		if code := callAs(t, s, f.token, "POST", f.path, body(f), &c); code != http.StatusCreated || c.SubjectRequestID != f.id {
			t.Fatalf("POST %s %s: %d %+v", f.path, f.id, code, c)
		}
		first[f.id] = c
	}

	// Every request runs; the controller hears pending, in_progress and
	// completed, signed, even through one failed delivery.
	for _, f := range reqs {
		want := "pending,in_progress,completed"
		testkit.Eventually(t, 60*time.Second, "callbacks of "+f.id+" ("+f.typ+") "+want, func() error {
			if got := strings.Join(ctrl.statuses(f.id), ","); got != want {
				return fmt.Errorf("got %s; bad: %v; log:\n%s", got, ctrl.bad, s.stderr.String())
			}
			return nil
		})
	}
	if len(ctrl.bad) > 0 || !ctrl.flakyFailed {
		t.Fatalf("bad callbacks: %v (flaky failed once: %v)", ctrl.bad, ctrl.flakyFailed)
	}

	for _, f := range reqs {
		var st opendsr.Status
		if code := callAs(t, s, f.token, "GET", f.path+"/"+f.id, "", &st); code != http.StatusOK || st.RequestStatus != "completed" {
			t.Fatalf("status of %s: %d %+v", f.id, code, st)
		}
		if f.typ == "erasure" {
			if st.ResultsURL != "" || st.ResultsCount != nil {
				t.Fatalf("erasure %s has results: %+v", f.id, st)
			}
			continue
		}
		if st.ResultsCount == nil || *st.ResultsCount == 0 || st.ResultsURL == "" {
			t.Fatalf("access %s: results %+v; want a count and a link", f.id, st)
		}
		resp, err := http.Get(st.ResultsURL) // the link is its own proof: no token
		if err != nil {
			t.Fatal(err)
		}
		zip, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(zip, []byte("PK")) {
			t.Fatalf("results_url of %s: %d, %d bytes", f.id, resp.StatusCode, len(zip))
		}
		tampered := strings.Replace(st.ResultsURL, "expires=", "expires=9", 1)
		if resp, err := http.Get(tampered); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a tampered results link answers %v, %v; want 404", resp.StatusCode, err)
		}
	}

	// Lethe's own listing shows them as its requests, marked with their
	// source, the tenant key's in its tenant; the erasures took the rows.
	var list struct {
		Items []struct{ Type, Status, Tenant, Source string }
	}
	s.call(t, "GET", "/v1/requests", "", &list)
	if len(list.Items) != len(reqs) {
		t.Fatalf("GET /v1/requests lists %d requests; want %d", len(list.Items), len(reqs))
	}
	for _, it := range list.Items {
		if it.Source != "opendsr" || it.Status != "completed" {
			t.Fatalf("listed %+v; want completed from opendsr", it)
		}
	}
	var plan struct{ Total int64 }
	s.call(t, "POST", "/v1/plan", `{"email":"ada@example.com"}`, &plan)
	if plan.Total != 0 {
		t.Fatalf("ada still has %d rows after her OpenDSR erasure", plan.Total)
	}

	// A repeated subject_request_id answers the first request.
	var again opendsr.Created
	if code := callAs(t, s, s.token, "POST", reqs[0].path, body(reqs[0]), &again); code != http.StatusCreated ||
		!again.ReceivedTime.Equal(first[reqs[0].id].ReceivedTime) {
		t.Fatalf("repeat: %d %+v; want the first request", code, again)
	}
	s.call(t, "GET", "/v1/requests", "", &list)
	if len(list.Items) != len(reqs) {
		t.Fatalf("the repeat filed a request: %d listed", len(list.Items))
	}
	if strings.Contains(s.stderr.String(), "@example.com") {
		t.Fatal("the log names an address")
	}
}

// callAs sends one JSON call with token ("" sends none) and decodes the
// answer into out when out is not nil.
func callAs(t *testing.T, s *demoServer, token, method, path, body string, out any) int {
	t.Helper()
	status, raw := s.send(t, token, method, path, body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return status
}

// TestOpenDSRCallbacksSurviveRestart files a request and kills the server
// at once, before any callback can have been sent; the server started
// again on the same state store runs the request and the controller still
// hears every status, in order.
func TestOpenDSRCallbacksSurviveRestart(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "opendsr.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--opendsr-key", keyFile, "--demo-dir", filepath.Join(dir, "demo"), "--database-url", "sqlite://" + filepath.Join(dir, "state.db")}
	first := startDemo(t, flags...)
	resp, err := http.Get(first.base + opendsr.CertificatePath)
	if err != nil {
		t.Fatal(err)
	}
	ctrl := &controller{t: t, got: map[string][]string{}}
	ctrl.cert, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	recv := httptest.NewServer(ctrl)
	defer recv.Close()

	id := "66666666-6666-4666-8666-666666666666"
	body := `{"regulation":"gdpr","subject_request_id":"` + id + `","subject_request_type":"erasure","submitted_time":"2026-01-02T03:04:05Z",
		"subject_identities":[{"identity_type":"email","identity_value":"alan@example.com","identity_format":"raw"}],
		"status_callback_urls":["` + recv.URL + `/cb"]}`
	if code := callAs(t, first, first.token, "POST", "/opendsr/v2/requests", body, nil); code != http.StatusCreated {
		t.Fatalf("POST: %d", code)
	}
	first.cmd.Process.Kill() // SIGKILL: nothing is flushed or finished
	first.cmd.Wait()
	if got := ctrl.statuses(id); len(got) > 0 {
		t.Logf("callbacks before the kill: %v", got)
	}

	startDemo(t, flags...)
	var got []string
	testkit.Eventually(t, 60*time.Second, "the completed callback across the restart", func() error {
		if got = ctrl.statuses(id); len(got) == 0 || got[len(got)-1] != "completed" {
			return fmt.Errorf("callbacks %v; bad: %v", got, ctrl.bad)
		}
		return nil
	})
	// At least once: a callback sent just before the kill may come again,
	// but never out of order.
	if got[0] != "pending" || !slices.IsSortedFunc(got, func(a, b string) int { return rankOf(a) - rankOf(b) }) ||
		!slices.Contains(got, "in_progress") {
		t.Fatalf("callbacks across the restart = %v; want pending, in_progress, completed in order", got)
	}
	if len(ctrl.bad) > 0 {
		t.Fatalf("bad callbacks: %v", ctrl.bad)
	}
}

func rankOf(status string) int {
	return map[string]int{"pending": 0, "in_progress": 1, "completed": 2, "cancelled": 2}[status]
}
