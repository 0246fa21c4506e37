package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

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
			Code    *int    `json:"code"`
			Message string  `json:"message"`
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

		st := b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, adminToken, "")
		status := decode[opendsr.Status](t, st, http.StatusOK)
		verifySigned(t, b, st, false)
		if status.RequestStatus != "pending" || status.APIVersion != "2.0" || status.ResultsURL != "" {
			t.Fatalf("status = %+v", status)
		}
		wantODSRError(t, b.do(t, "GET", "/opendsr/v2/requests/b7551968-d5d6-44b2-9831-815ac9017798", adminToken, ""), http.StatusNotFound, "subject_request_id")
	})
}

