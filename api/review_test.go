package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// heldBody is a request with the review gate's part.
type heldBody struct {
	ID     string     `json:"id"`
	Status string     `json:"status"`
	Error  *dsr.Error `json:"error"`
	Review *struct {
		Plan struct {
			Total int64 `json:"total"`
		} `json:"plan"`
		ApprovedBy *string `json:"approved_by"`
	} `json:"review"`
}

// withGate gives b the demo registry, settings and the review gate, with
// the engine's plan.
func withGate(t *testing.T, b *bundle) {
	t.Helper()
	sw := withRetention(t, b)
	b.srv.Requests.(*state.RequestService).Gate = &dsr.Gate{Studios: b.srv.Settings.(*state.TenantSettings), Plan: sw.Engine.(*engine.Engine).PlanJSON}
}

// TestReviewRoutes drives the review gate's routes, each checked against
// openapi.json: a studio turns approval of erasures on in its settings
// (and its policy shows it); its erasure waits with its plan and is listed
// as awaiting_approval while its access request is not held; another
// studio's key gets 404; a denial needs a reason without an address; an
// approval queues the request once (409 after); a denial ends it with its
// reason; both are audited.
func TestReviewRoutes(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withGate(t, b)
		_, coach := b.tenantKey(t, "career-coach")
		_, calm := b.tenantKey(t, "calm-mind")
		st := decode[retention.Settings](t, b.do(t, "PUT", "/v1/tenants/career-coach/settings", coach, `{"approval":{"erasure":true}}`), http.StatusOK)
		if !st.Approval.Erasure || st.Approval.Access {
			t.Fatalf("settings after PUT: %+v", st.Approval)
		}
		policy := decode[map[string]any](t, b.do(t, "GET", "/v1/tenants/career-coach/policy", coach, ""), http.StatusOK)
		if a, _ := policy["approval"].(map[string]any); a["erasure"] != true || a["access"] != false {
			t.Fatalf("policy approval %v", policy["approval"])
		}

		file := func(typ, email string) heldBody {
			return decode[heldBody](t, b.do(t, "POST", "/v1/requests", coach, `{"type":"`+typ+`","email":"`+email+`"}`), http.StatusAccepted)
		}
		held := file("erasure", "grace@example.com")
		if held.Status != "awaiting_approval" || held.Review == nil || held.Review.Plan.Total == 0 {
			t.Fatalf("gated erasure %+v; want awaiting_approval with a plan", held)
		}
		if free := file("access", "grace@example.com"); free.Status != "pending" || free.Review != nil {
			t.Fatalf("access request %+v; want pending, not held", free)
		}
		waiting := decode[struct{ Items []heldBody }](t, b.do(t, "GET", "/v1/requests?status=awaiting_approval", coach, ""), http.StatusOK)
		if len(waiting.Items) != 1 || waiting.Items[0].ID != held.ID {
			t.Fatalf("waiting %+v; want %s only", waiting.Items, held.ID)
		}

		wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/approve", calm, ""), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/deny", calm, `{"reason":"no"}`), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/deny", coach, `{"reason":" "}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		if msg := wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/deny", coach, `{"reason":"grace@example.com asked twice"}`),
			http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE); !strings.Contains(msg, "email") {
			t.Errorf("reason with an address: %q", msg)
		}
		if msg := wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/deny", coach, `{"reason":"called her on +44 20 7946 0958"}`),
			http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE); !strings.Contains(msg, "phone numbers") {
			t.Errorf("reason with a phone number: %q", msg)
		}

		ok := decode[heldBody](t, b.do(t, "POST", "/v1/requests/"+held.ID+"/approve", coach, ""), http.StatusOK)
		if ok.Status != "pending" || ok.Review == nil || ok.Review.ApprovedBy == nil || !strings.HasPrefix(*ok.Review.ApprovedBy, "key:") {
			t.Fatalf("approved %+v", ok)
		}
		wantError(t, b.do(t, "POST", "/v1/requests/"+held.ID+"/approve", coach, ""), http.StatusConflict, dsr.ECONFLICT)

		second := file("erasure", "ada@example.com")
		const reason = "A court order requires these records to be kept"
		denied := decode[heldBody](t, b.do(t, "POST", "/v1/requests/"+second.ID+"/deny", adminToken, `{"reason":"`+reason+`"}`), http.StatusOK)
		if denied.Status != "denied" || denied.Error == nil || denied.Error.Message != reason {
			t.Fatalf("denied %+v", denied)
		}
		wantError(t, b.do(t, "POST", "/v1/requests/"+second.ID+"/deny", coach, `{"reason":"again"}`), http.StatusConflict, dsr.ECONFLICT)

		audit := string(b.do(t, "GET", "/v1/audit?limit=200", adminToken, "").body)
		for _, action := range []string{`"request.approved"`, `"request.denied"`, reason} {
			if !strings.Contains(audit, action) {
				t.Errorf("the audit trail lacks %s", action)
			}
		}
	})
}

// TestReviewOpenDSR: an erasure an OpenDSR controller files for a studio
// that reviews erasures waits like any other; the controller reads it
// pending, and cancelled once denied (the specification has no denied).
func TestReviewOpenDSR(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withGate(t, b)
		withOpenDSR(t, b)
		_, coach := b.tenantKey(t, "career-coach")
		decode[retention.Settings](t, b.do(t, "PUT", "/v1/tenants/career-coach/settings", coach, `{"approval":{"erasure":true}}`), http.StatusOK)
		b.do(t, "POST", "/opendsr/v2/requests", coach, odsrBody(odsrID, "erasure", adaRaw))
		status := func() string {
			return decode[opendsr.Status](t, b.do(t, "GET", "/opendsr/v2/requests/"+odsrID, coach, ""), http.StatusOK).RequestStatus
		}
		if st := status(); st != opendsr.StatusPending {
			t.Fatalf("a held OpenDSR request reads %q; want pending", st)
		}
		waiting := decode[struct{ Items []heldBody }](t, b.do(t, "GET", "/v1/requests?status=awaiting_approval&source=opendsr", coach, ""), http.StatusOK)
		if len(waiting.Items) != 1 || waiting.Items[0].Review == nil {
			t.Fatalf("waiting OpenDSR requests %+v; want the one filed, with its plan", waiting.Items)
		}
		decode[heldBody](t, b.do(t, "POST", "/v1/requests/"+waiting.Items[0].ID+"/deny", coach, `{"reason":"An open legal claim"}`), http.StatusOK)
		if st := status(); st != opendsr.StatusCancelled {
			t.Errorf("a denied OpenDSR request reads %q; want cancelled", st)
		}
	})
}
