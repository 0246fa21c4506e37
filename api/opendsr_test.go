package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// withOpenDSR turns OpenDSR on for b with a fresh ECDSA key.
func withOpenDSR(t *testing.T, b *bundle) *opendsr.Service {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := opendsr.LoadSigner(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	hasher := dsr.NewSubjectHasher([]byte(subjectKey))
	svc := &opendsr.Service{Requests: b.srv.Requests, Store: &state.OpenDSRStore{DB: b.db}, Signer: signer,
		Links: hasher, Audit: b.srv.Audit, PublicURL: b.url, Now: b.clock.Now, Logger: b.logger}
	b.srv.OpenDSR = svc
	return svc
}

const odsrID = "a7551968-d5d6-44b2-9831-815ac9017798"

func odsrBody(id, typ, identities string) string {
	return `{"regulation":"gdpr","subject_request_id":"` + id + `","subject_request_type":"` + typ + `",
		"submitted_time":"2025-03-01T11:00:00Z","api_version":"2.0","subject_identities":` + identities + `,
		"status_callback_urls":["https://controller.example/opendsr/callbacks"],
		"extensions":{"controller.example":{"property_id":"123"}}}`
}

const adaRaw = `[{"identity_type":"email","identity_value":"ada@example.com","identity_format":"raw"}]`

// wantODSRError checks the error shape of the specification (§7.6):
// {"error":{"code":<status>,"message","errors":[{"domain","reason","message"}]}}.
func wantODSRError(t *testing.T, r reply, status int, inMessage string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var body struct {
		Error struct {
			Code    *int   `json:"code"`
			Message string `json:"message"`
			Errors  []struct{ Domain, Reason, Message string }
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error.Code == nil || *body.Error.Code != status ||
		len(body.Error.Errors) != 1 || body.Error.Errors[0].Domain == "" || body.Error.Errors[0].Reason == "" {
		t.Fatalf("error body is not in the specification's shape with code %d: %s", status, r.body)
	}
	if !strings.Contains(body.Error.Message, inMessage) {
		t.Fatalf("error message %q does not say %q", body.Error.Message, inMessage)
	}
}

// verifySigned checks the signature header of a reply against the
// certificate the server serves.
func verifySigned(t *testing.T, b *bundle, r reply, legacy bool) {
	t.Helper()
	domainH, sigH := opendsr.Headers(legacy)
	cert := b.do(t, "GET", opendsr.CertificatePath, "", "")
	if cert.status != http.StatusOK {
		t.Fatalf("certificate: %d", cert.status)
	}
	if r.header.Get(domainH) == "" {
		t.Fatalf("reply has no %s header", domainH)
	}
	if err := opendsr.Verify(cert.body, r.body, r.header.Get(sigH)); err != nil {
		t.Fatalf("%s does not verify: %v", sigH, err)
	}
}

func TestOpenDSRDiscoveryAndCreate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		// Without a key every route says how to turn OpenDSR on.
		wantODSRError(t, b.do(t, "GET", "/opendsr/v2/discovery", "", ""), http.StatusServiceUnavailable, "LETHE_OPENDSR_KEY")
		withOpenDSR(t, b)
		d := decode[opendsr.Discovery](t, b.do(t, "GET", "/opendsr/v2/discovery", "", ""), http.StatusOK)
		if d.APIVersion != "2.0" || len(d.SupportedIdentities) != 2 || len(d.SupportedRequestTypes) != 3 ||
			d.ProcessorCertificate != b.url+opendsr.CertificatePath {
			t.Fatalf("discovery = %+v", d)
		}
		wantODSRError(t, b.do(t, "POST", "/opendsr/v2/requests", "", odsrBody(odsrID, "access", adaRaw)), http.StatusUnauthorized, "Bearer")

		r := b.do(t, "POST", "/opendsr/v2/requests", adminToken, odsrBody(odsrID, "access", adaRaw))
		created := decode[opendsr.Created](t, r, http.StatusCreated)
		verifySigned(t, b, r, false)
		raw, _ := base64.StdEncoding.DecodeString(created.EncodedRequest)
		if created.SubjectRequestID != odsrID || created.ControllerID != "admin" || !strings.Contains(string(raw), odsrID) ||
			!created.ExpectedCompletionTime.Equal(t0.Add(dsr.ResponseWindow)) || created.ProcessorSignature == "" {
			t.Fatalf("created = %+v", created)
		}
		// processor_signature signs the body as it reads without it.
		unsigned := created
		unsigned.ProcessorSignature = ""
		inner, _ := json.Marshal(unsigned)
		cert := b.do(t, "GET", opendsr.CertificatePath, "", "").body
		if err := opendsr.Verify(cert, inner, created.ProcessorSignature); err != nil {
			t.Fatalf("processor_signature does not verify: %v", err)
		}

		// A repeated subject_request_id returns the first request and files nothing.
		before := b.rows(t)
		again := decode[opendsr.Created](t, b.do(t, "POST", "/opendsr/v2/requests", adminToken, odsrBody(odsrID, "access", adaRaw)), http.StatusCreated)
		if again.ReceivedTime != created.ReceivedTime || b.rows(t) != before {
			t.Fatalf("repeat created something: %+v, rows %v → %v", again, before, b.rows(t))
		}
		// It is one of Lethe's requests, marked with its source.
		list := decode[struct {
			Items []struct{ ID, Type, Source string }
		}](t, b.do(t, "GET", "/v1/requests", adminToken, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].Source != "opendsr" || list.Items[0].Type != "access" {
			t.Fatalf("GET /v1/requests = %+v; want one access request from opendsr", list.Items)
		}
		plain := b.fileRequest(t, adminToken, "erasure", "grace@example.com", "")
		for source, want := range map[string]string{"opendsr": list.Items[0].ID, "api": plain.ID} {
			got := decode[struct{ Items []struct{ ID string } }](t, b.do(t, "GET", "/v1/requests?source="+source, adminToken, ""), http.StatusOK)
			if len(got.Items) != 1 || got.Items[0].ID != want {
				t.Fatalf("GET /v1/requests?source=%s = %+v; want %s only", source, got.Items, want)
			}
		}
		wantError(t, b.do(t, "GET", "/v1/requests?source=fax", adminToken, ""), http.StatusUnprocessableEntity, "unprocessable")

		st := b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, adminToken, "")
		status := decode[opendsr.Status](t, st, http.StatusOK)
		verifySigned(t, b, st, false)
		if status.RequestStatus != "pending" || status.APIVersion != "2.0" || status.ResultsURL != "" {
			t.Fatalf("status = %+v", status)
		}
		wantODSRError(t, b.do(t, "GET", "/opendsr/v2/requests/b7551968-d5d6-44b2-9831-815ac9017798", adminToken, ""), http.StatusNotFound, "subject_request_id")
	})
}

func TestOpenDSRMalformedRequests(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withOpenDSR(t, b)
		before := b.rows(t)
		for _, tc := range []struct{ name, body, says string }{
			{"not JSON", `{"subject_request_id":`, "JSON object"},
			{"missing id", odsrBody("", "erasure", adaRaw), "subject_request_id field is required"},
			{"bad UUID", odsrBody("not-a-uuid", "erasure", adaRaw), "UUID v4"},
			{"uppercase UUID", odsrBody(strings.ToUpper(odsrID), "erasure", adaRaw), "UUID v4"},
			{"UUID v1", odsrBody("a7551968-d5d6-11b2-9831-815ac9017798", "erasure", adaRaw), "UUID v4"},
			{"missing type", odsrBody(odsrID, "", adaRaw), "subject_request_type field is required"},
			{"unknown type", odsrBody(odsrID, "rectification", adaRaw), "subject_request_type"},
			{"missing identities", odsrBody(odsrID, "erasure", `[]`), "subject_identities field is required"},
			{"unknown identity type", odsrBody(odsrID, "erasure", `[{"identity_type":"shoe_size","identity_value":"42","identity_format":"raw"}]`), "identity_type"},
			{"unknown identity format", odsrBody(odsrID, "erasure", `[{"identity_type":"email","identity_value":"ada@example.com","identity_format":"rot13"}]`), "identity_format"},
			{"no supported identity", odsrBody(odsrID, "erasure", `[{"identity_type":"android_id","identity_value":"abc","identity_format":"raw"}]`), "no supported identity"},
			{"bad sha256", odsrBody(odsrID, "erasure", `[{"identity_type":"email","identity_value":"abc","identity_format":"sha256"}]`), "64 hexadecimal"},
			{"bad email", odsrBody(odsrID, "erasure", `[{"identity_type":"email","identity_value":"not an address","identity_format":"raw"}]`), "plain email"},
			{"two people", odsrBody(odsrID, "erasure", `[{"identity_type":"email","identity_value":"ada@example.com","identity_format":"raw"},{"identity_type":"email","identity_value":"grace@example.com","identity_format":"raw"}]`), "different addresses"},
			{"unsupported api_version", strings.Replace(odsrBody(odsrID, "erasure", adaRaw), `"2.0"`, `"3.0"`, 1), "api_version"},
			{"missing regulation", strings.Replace(odsrBody(odsrID, "erasure", adaRaw), `"regulation":"gdpr",`, "", 1), "regulation field is required"},
			{"bad submitted_time", strings.Replace(odsrBody(odsrID, "erasure", adaRaw), "2025-03-01T11:00:00Z", "yesterday", 1), "RFC 3339"},
			{"file callback", strings.Replace(odsrBody(odsrID, "erasure", adaRaw), "https://controller.example/opendsr/callbacks", "file:///etc/passwd", 1), "http or https"},
			{"gopher callback", strings.Replace(odsrBody(odsrID, "erasure", adaRaw), "https://controller.example/opendsr/callbacks", "gopher://controller.example/", 1), "http or https"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.do(t, "POST", "/opendsr/v2/requests", adminToken, tc.body)
				wantODSRError(t, r, http.StatusBadRequest, tc.says)
				if strings.Contains(string(r.body), "ada@example.com") || strings.Contains(string(r.body), "not an address") {
					t.Fatalf("error repeats an identity: %s", r.body)
				}
			})
		}
		if after := b.rows(t); after != before {
			t.Fatalf("refused bodies wrote rows: %v → %v", before, after)
		}
	})
}

func TestOpenDSRCancelTenantsAndLegacy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		svc := withOpenDSR(t, b)
		_, token := b.tenantKey(t, "calm-mind")
		// A tenant key files into its tenant; the admin cannot be seen by it.
		decode[opendsr.Created](t, b.do(t, "POST", "/opendsr/v2/requests", token, odsrBody(odsrID, "erasure", adaRaw)), http.StatusCreated)
		list := decode[struct {
			Items []struct{ Tenant, Source, Type string }
		}](t, b.do(t, "GET", "/v1/requests", token, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].Tenant != "calm-mind" || list.Items[0].Type != "erasure" {
			t.Fatalf("tenant listing = %+v", list.Items)
		}
		other := "c7551968-d5d6-44b2-9831-815ac9017798"
		decode[opendsr.Created](t, b.do(t, "POST", "/opendsr/v2/requests", adminToken, odsrBody(other, "portability", adaRaw)), http.StatusCreated)
		wantODSRError(t, b.do(t, "GET", "/opendsr/v2/requests/"+other, token, ""), http.StatusNotFound, "subject_request_id")
		wantODSRError(t, b.do(t, "POST", "/opendsr/v2/requests", token, odsrBody(other, "portability", adaRaw)), http.StatusBadRequest, "another controller")

		// The scan queues one callback job per URL with the pending status.
		if n, err := svc.Scan(context.Background(), b.queue.EnqueueCallbacks); err != nil || n != 2 {
			t.Fatalf("scan = %d, %v; want both new requests", n, err)
		}
		if got := callbackJobs(t, b); len(got) != 2 || got[0] != "pending" || got[1] != "pending" {
			t.Fatalf("callback jobs after filing = %v", got)
		}

		// Cancel while pending: 202 signed; then the status says so and a
		// second cancel is the specification's 400.
		r := b.do(t, "DELETE", "/opendsr/v2/requests/"+odsrID, token, "")
		c := decode[opendsr.Cancelled](t, r, http.StatusAccepted)
		verifySigned(t, b, r, false)
		if c.SubjectRequestID != odsrID || c.ControllerID != "calm-mind" || c.ProcessorSignature == "" {
			t.Fatalf("cancelled = %+v", c)
		}
		if st := decode[opendsr.Status](t, b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, token, ""), http.StatusOK); st.RequestStatus != "cancelled" {
			t.Fatalf("status after cancel = %+v", st)
		}
		wantODSRError(t, b.do(t, "DELETE", "/opendsr/v2/requests/"+odsrID, token, ""), http.StatusBadRequest, "only a pending request")
		if n, err := svc.Scan(context.Background(), b.queue.EnqueueCallbacks); err != nil || n != 1 {
			t.Fatalf("scan after cancel = %d, %v", n, err)
		}
		if got := callbackJobs(t, b); len(got) != 3 || got[2] != "cancelled" {
			t.Fatalf("callback jobs after cancel = %v", got)
		}
		if n, _ := svc.Scan(context.Background(), b.queue.EnqueueCallbacks); n != 0 {
			t.Fatalf("a scan without changes advanced %d requests", n)
		}

		// Legacy OpenGDPR routes: X-OpenGDPR-* headers, api_version 1.0,
		// regulation optional.
		legacyID := "d7551968-d5d6-44b2-9831-815ac9017798"
		body := strings.Replace(strings.Replace(odsrBody(legacyID, "erasure", adaRaw), `"regulation":"gdpr",`, "", 1), `"2.0"`, `"1.0"`, 1)
		lr := b.do(t, "POST", "/opengdpr_requests", adminToken, body)
		decode[opendsr.Created](t, lr, http.StatusCreated)
		verifySigned(t, b, lr, true)
		if lr.header.Get(opendsr.HeaderSignature) != "" {
			t.Fatal("a legacy reply carries the X-OpenDSR-Signature header; want X-OpenGDPR-Signature only")
		}
		ls := b.do(t, "GET", "/opengdpr_requests/"+legacyID, adminToken, "")
		if st := decode[opendsr.Status](t, ls, http.StatusOK); st.APIVersion != "1.0" || st.RequestStatus != "pending" {
			t.Fatalf("legacy status = %+v", st)
		}
		verifySigned(t, b, ls, true)
		wantODSRError(t, b.do(t, "POST", "/opengdpr_requests", adminToken, odsrBody("e7551968-d5d6-44b2-9831-815ac9017798", "erasure", adaRaw)), http.StatusBadRequest, "api_version")
		if d := decode[opendsr.Discovery](t, b.do(t, "GET", "/discovery", "", ""), http.StatusOK); d.APIVersion != "1.0" {
			t.Fatalf("legacy discovery = %+v", d)
		}
		decode[opendsr.Cancelled](t, b.do(t, "DELETE", "/opengdpr_requests/"+legacyID, adminToken, ""), http.StatusAccepted)
	})
}

// callbackJobs returns the statuses of the queued callback jobs in order.
func callbackJobs(t *testing.T, b *bundle) []string {
	t.Helper()
	var args []string
	col := "args"
	if b.dialect == state.SQLite {
		col = "json(args)" // River keeps SQLite's args as JSONB
	}
	if err := b.db.Gorm.Raw(`SELECT ` + col + ` FROM river_job WHERE kind = 'lethe.opendsr.callback' ORDER BY id`).Scan(&args).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range args {
		var job opendsr.CallbackJob
		if err := json.Unmarshal([]byte(a), &job); err != nil {
			t.Fatal(err)
		}
		out = append(out, job.Statuses...)
	}
	return out
}

// TestOpenDSRUnmatchedHashCompletes files a sha256 identity that no store
// holds: the request completes at once with nothing found, and callbacks
// to private addresses are refused unless allowed.
func TestOpenDSRUnmatchedHashAndPrivateCallbacks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		svc := withOpenDSR(t, b)
		hash := `[{"identity_type":"email","identity_value":"` + strings.Repeat("ab", 32) + `","identity_format":"sha256"}]`
		before := b.rows(t)
		decode[opendsr.Created](t, b.do(t, "POST", "/opendsr/v2/requests", adminToken, odsrBody(odsrID, "access", hash)), http.StatusCreated)
		st := decode[opendsr.Status](t, b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, adminToken, ""), http.StatusOK)
		if st.RequestStatus != "completed" || st.ResultsCount == nil || *st.ResultsCount != 0 || st.ResultsURL != "" {
			t.Fatalf("unmatched hash status = %+v; want completed with results_count 0", st)
		}
		if after := b.rows(t); after[0] != before[0] || after[1] != before[1]+1 {
			t.Fatalf("rows %v → %v; want no Lethe request and one audit entry", before, after)
		}
		if _, err := svc.Scan(context.Background(), b.queue.EnqueueCallbacks); err != nil {
			t.Fatal(err)
		}
		if got := callbackJobs(t, b); strings.Join(got, ",") != "pending,completed" {
			t.Fatalf("callbacks = %v; want pending then completed", got)
		}

		var hits int
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
		defer recv.Close()
		job := opendsr.CallbackJob{SubjectRequestID: odsrID, URL: recv.URL, Statuses: []string{"completed"}}
		if err := svc.SendCallback(context.Background(), opendsr.NewCallbackClient(false), job, false); err == nil || hits != 0 {
			t.Fatalf("callback to a loopback address: err %v, hits %d; want refused", err, hits)
		}
		if err := svc.SendCallback(context.Background(), opendsr.NewCallbackClient(true), job, false); err != nil || hits != 1 {
			t.Fatalf("callback with private addresses allowed: err %v, hits %d", err, hits)
		}
		// A retried "pending" is dropped once "completed" is queued: sent
		// late it would tell the controller the request went back.
		stale := opendsr.CallbackJob{SubjectRequestID: odsrID, URL: recv.URL, Statuses: []string{"pending"}}
		if err := svc.SendCallback(context.Background(), opendsr.NewCallbackClient(true), stale, true); err != nil || hits != 1 {
			t.Fatalf("stale retried callback: err %v, hits %d; want dropped", err, hits)
		}
		if err := svc.SendCallback(context.Background(), opendsr.NewCallbackClient(true), stale, false); err != nil || hits != 2 {
			t.Fatalf("first attempt of a callback: err %v, hits %d; want sent", err, hits)
		}
	})
}

// raceStore lets another controller take a subject_request_id between the
// service's check and its insert, as a concurrent filing would.
type raceStore struct {
	opendsr.Store
	first *opendsr.Record
}

func (s *raceStore) Insert(ctx context.Context, r *opendsr.Record) (*opendsr.Record, bool, error) {
	if s.first != nil {
		first := s.first
		s.first = nil
		if _, _, err := s.Store.Insert(ctx, first); err != nil {
			return nil, false, err
		}
	}
	return s.Store.Insert(ctx, r)
}

// TestOpenDSRSameIDFiledConcurrently: when another controller takes the
// id between the check and the insert, the loser is refused as if it had
// come second, sees nothing of the winner's record, and the request filed
// for it is withdrawn rather than left without a record.
func TestOpenDSRSameIDFiledConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		svc := withOpenDSR(t, b)
		now := b.clock.Now().UTC().Truncate(time.Second)
		svc.Store = &raceStore{Store: svc.Store, first: &opendsr.Record{SubjectRequestID: odsrID, Tenant: "career-coach",
			ControllerID: "career-coach", Type: "erasure", Regulation: "gdpr", ReceivedAt: now, ExpectedAt: now}}
		_, token := b.tenantKey(t, "calm-mind")
		wantODSRError(t, b.do(t, "POST", "/opendsr/v2/requests", token, odsrBody(odsrID, "erasure", adaRaw)), http.StatusBadRequest, "another controller")
		wantODSRError(t, b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, token, ""), http.StatusNotFound, "subject_request_id")
		list := decode[struct {
			Items []struct{ Status string }
		}](t, b.do(t, "GET", "/v1/requests", token, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].Status != string(dsr.StatusCancelled) {
			t.Fatalf("the loser's request = %+v; want it withdrawn (cancelled)", list.Items)
		}
	})
}
