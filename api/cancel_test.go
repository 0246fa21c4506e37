package api_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestCancelTellsTheReason: cancelling a request needs a reason without
// an address (400 without a body, 422 for an empty one or one naming an
// address, which the message does not repeat); the person whose
// self-service erasure is cancelled while it waits for approval is mailed
// the reason, and the audit entry keeps it.
func TestCancelTellsTheReason(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		b.srv.Requests.(*state.RequestService).Gate = &dsr.Gate{Registry: dsr.ApprovalRule{Erasure: true}}
		b.srv.Ended = b.svc
		tk, code := b.ask(t, "erasure", "ada@example.com", "career-coach")
		decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
		path := "/v1/requests/" + tk.ID + "/cancel"
		wantError(t, b.do(t, "POST", path, adminToken, ""), http.StatusBadRequest, dsr.EINVALID)
		wantError(t, b.do(t, "POST", path, adminToken, `{"reason":"  "}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		if msg := wantError(t, b.do(t, "POST", path, adminToken, `{"reason":"ada@example.com phoned"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE); strings.Contains(msg, "ada@") {
			t.Errorf("the refusal repeats the address: %s", msg)
		}
		if msg := wantError(t, b.do(t, "POST", path, adminToken, `{"reason":"called her on +44 20 7946 0958"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE); !strings.Contains(msg, "phone numbers") || strings.Contains(msg, "7946") {
			t.Errorf("reason with a phone number: %q", msg)
		}

		before := len(b.smtp.Messages())
		const reason = "The person withdrew the request by phone"
		c := decode[requestBody](t, b.do(t, "POST", path, adminToken, `{"reason":"`+reason+`"}`), http.StatusOK)
		if c.Status != "cancelled" || c.Error == nil || c.Error.Message != reason {
			t.Fatalf("cancelled request: %+v", c)
		}
		testkit.Eventually(t, 10*time.Second, "the person told the reason", func() error {
			for _, m := range b.smtp.Messages()[before:] {
				body := strings.Join(strings.Fields(m.Body), " ")
				if len(m.To) == 1 && m.To[0] == "ada@example.com" && strings.Contains(body, "cancelled before it was carried out") &&
					strings.Contains(body, "The reason given: "+reason) {
					return nil
				}
			}
			return errors.New("no closing notice with the reason")
		})
		audit := string(b.do(t, "GET", "/v1/audit?limit=200", adminToken, "").body)
		if !strings.Contains(audit, `"request.cancelled"`) || !strings.Contains(audit, reason) {
			t.Errorf("the audit trail lacks the cancellation's reason:\n%s", audit)
		}
	})
}
