package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEmailNeverLeaves files requests for one person through every route,
// lets the queue run them to the end, and checks that the email appears in
// no response body and no log line.
func TestEmailNeverLeaves(t *testing.T) {
	t.Parallel()
	const email = "Wanda.Leak-Check@Example.org"
	secret := strings.ToLower("wanda.leak-check") // the local part, in any case
	forEachDialect(t, func(t *testing.T, b *bundle) {
		_, token := b.tenantKey(t, "studio-a")
		body, _ := json.Marshal(map[string]string{"type": "erasure", "email": email})
		erasure := decode[requestBody](t, b.do(t, "POST", "/v1/requests", token, string(body), "Idempotency-Key", "w-1"), http.StatusAccepted)
		decode[requestBody](t, b.do(t, "POST", "/v1/requests", token, string(body), "Idempotency-Key", "w-1"), http.StatusAccepted)
		access := b.fileRequest(t, adminToken, "access", email, "studio-a")
		cancelled := b.fileRequest(t, adminToken, "erasure", "  "+email+" ", "")
		b.do(t, "POST", "/v1/requests/"+access.ID+"/extend", adminToken, `{"days":5,"reason":"paper archive"}`)
		b.do(t, "POST", "/v1/requests/"+cancelled.ID+"/cancel", adminToken, `{"reason":"no longer wanted"}`)
		other, _ := json.Marshal(map[string]string{"type": "access", "email": email})
		b.do(t, "POST", "/v1/requests", token, string(other), "Idempotency-Key", "w-1") // 409
		bad, _ := json.Marshal(map[string]string{"type": "erasure", "email": "Wanda <" + email + ">"})
		b.do(t, "POST", "/v1/requests", token, string(bad)) // 422
		bad, _ = json.Marshal(map[string]string{"type": "forget", "email": email})
		b.do(t, "POST", "/v1/requests", token, string(bad)) // 422

		b.start(t)
		for _, id := range []string{erasure.ID, access.ID} {
			if r := b.ended(t, adminToken, id); r.Status != "failed" || r.Error == nil || r.Error.Code != "unprocessable" ||
				!strings.Contains(r.Error.Message, "no registry configured") {
				t.Errorf("request %s ended %s with %+v, want failed with the no-registry error", id, r.Status, r.Error)
			}
		}
		b.do(t, "GET", "/v1/requests", adminToken, "")
		b.do(t, "GET", "/v1/requests", token, "")
		b.do(t, "GET", "/v1/audit", adminToken, "")
		if v := decode[map[string]any](t, b.do(t, "GET", "/v1/audit/verify", adminToken, ""), http.StatusOK); v["ok"] != true {
			t.Errorf("audit verify: %v", v)
		}
		b.do(t, "GET", "/metrics", "", "")

		b.mu.Lock()
		replies := append([]string(nil), b.replies...)
		b.mu.Unlock()
		for _, body := range replies {
			if strings.Contains(strings.ToLower(body), secret) {
				t.Errorf("a response holds the email: %s", body)
			}
		}
		logs := b.logs.String()
		if !strings.Contains(logs, "request failed") {
			t.Errorf("the log does not show the runs (is it captured?):\n%s", logs)
		}
		if strings.Contains(strings.ToLower(logs), secret) {
			t.Errorf("the log holds the email:\n%s", logs)
		}
	})
}
