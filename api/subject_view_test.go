package api_test

import (
	"net/http"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestTenantsSeeTheirOwnSubject: two tenants filing a request about the
// same address are shown different subjects, neither the audit trail's
// (which the admin sees), on the request, in its listing and on a re-read;
// and no value shown is the pseudonym the hmac strategy writes into the
// application's tables.
func TestTenantsSeeTheirOwnSubject(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		hasher := dsr.NewSubjectHasher([]byte(subjectKey))
		b.srv.Subject = hasher
		const email = "ada@example.com"
		shown := map[string]string{} // value → who was shown it
		see := func(who, token, id string, subject string) {
			t.Helper()
			if subject == "" {
				t.Fatalf("%s is shown no subject", who)
			}
			if prev, ok := shown[subject]; ok && prev != who {
				t.Errorf("%s and %s are shown the same subject %s", who, prev, subject)
			}
			shown[subject] = who
			got := decode[map[string]any](t, b.do(t, "GET", "/v1/requests/"+id, token, ""), http.StatusOK)
			if got["subject"] != subject {
				t.Errorf("%s: GET shows subject %v, the create showed %s", who, got["subject"], subject)
			}
		}
		for _, tenant := range []string{"acme", "globex"} {
			_, token := b.tenantKey(t, tenant)
			created := decode[map[string]any](t, b.do(t, "POST", "/v1/requests", token, `{"type":"erasure","email":"`+email+`"}`), http.StatusAccepted)
			see(tenant, token, created["id"].(string), created["subject"].(string))
			list := decode[map[string][]map[string]any](t, b.do(t, "GET", "/v1/requests", token, ""), http.StatusOK)
			if len(list["items"]) != 1 || list["items"][0]["subject"] != created["subject"] {
				t.Errorf("%s's listing shows %v, the create showed %v", tenant, list["items"], created["subject"])
			}
		}
		created := decode[map[string]any](t, b.do(t, "POST", "/v1/requests", adminToken, `{"type":"erasure","email":"`+email+`"}`), http.StatusAccepted)
		see("admin", adminToken, created["id"].(string), created["subject"].(string))
		if created["subject"] != string(hasher.Subject(email)) {
			t.Errorf("the admin is shown %v, want the audit trail's subject", created["subject"])
		}
		if who, ok := shown[hasher.Anonymize(email)]; ok {
			t.Errorf("%s is shown the pseudonym written into the application's tables", who)
		}
		if len(shown) != 3 {
			t.Errorf("values shown: %v; want one per tenant and the admin's", shown)
		}
	})
}
