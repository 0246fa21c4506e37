package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestTenantRoutes registers, lists, reads and edits studios as the admin
// and as a studio's own key, which edits the profile but not the owners
// and sees no other studio.
func TestTenantRoutes(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		r := b.do(t, "POST", "/v1/tenants", adminToken, `{"slug":"new-studio","display_name":"New Studio","legal_name":"New Studio Ltd",`+
			`"privacy_contact":"privacy@new.example.com","owner_emails":["Owner@New.Example.com"],"brand_color":"#aa00ff"}`)
		created := decode[dsr.Tenant](t, r, http.StatusCreated)
		if created.Slug != "new-studio" || created.OwnerEmails[0] != "owner@new.example.com" || created.BrandColor != "#aa00ff" ||
			r.header.Get("Location") != "/v1/tenants/new-studio" {
			t.Errorf("created %+v at %s", created, r.header.Get("Location"))
		}
		wantError(t, b.do(t, "POST", "/v1/tenants", adminToken, `{"slug":"new-studio","display_name":"Again"}`), 409, dsr.ECONFLICT)
		wantError(t, b.do(t, "POST", "/v1/tenants", adminToken, `{"slug":"x","display_name":"X","brand_color":"blue"}`), 422, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "POST", "/v1/tenants", adminToken, `{"slug":"../x","display_name":"X"}`), 422, dsr.EUNPROCESSABLE)

		// Pages of two cover every studio once, in slug order.
		var slugs []string
		path := "/v1/tenants?limit=2"
		for range 10 {
			page := decode[struct {
				Items      []dsr.Tenant `json:"items"`
				NextCursor *string      `json:"next_cursor"`
			}](t, b.do(t, "GET", path, adminToken, ""), http.StatusOK)
			for _, tn := range page.Items {
				slugs = append(slugs, tn.Slug)
			}
			if page.NextCursor == nil {
				break
			}
			path = "/v1/tenants?limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		if strings.Join(slugs, ",") != "acme,calm-mind,career-coach,globex,new-studio,studio-a,studio-b,studio-secret-name" {
			t.Errorf("listed %v", slugs)
		}
		wantError(t, b.do(t, "GET", "/v1/tenants?cursor=forged", adminToken, ""), 400, dsr.EINVALID)

		_, key := b.tenantKey(t, "new-studio")
		wantError(t, b.do(t, "GET", "/v1/tenants", key, ""), 403, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "POST", "/v1/tenants", key, `{"slug":"mine","display_name":"Mine"}`), 403, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "GET", "/v1/tenants/studio-a", key, ""), 404, dsr.ENOTFOUND)
		wantError(t, b.do(t, "PUT", "/v1/tenants/studio-a", key, `{"display_name":"Taken"}`), 404, dsr.ENOTFOUND)

		// The key sends back what it read, one field changed.
		own := b.do(t, "GET", "/v1/tenants/new-studio", key, "")
		var doc map[string]any
		if err := json.Unmarshal(decode[json.RawMessage](t, own, http.StatusOK), &doc); err != nil {
			t.Fatal(err)
		}
		doc["display_name"] = "Renamed Studio"
		body, _ := json.Marshal(doc)
		renamed := decode[dsr.Tenant](t, b.do(t, "PUT", "/v1/tenants/new-studio", key, string(body)), http.StatusOK)
		if renamed.DisplayName != "Renamed Studio" || renamed.LegalName != "New Studio Ltd" || renamed.OwnerEmails[0] != "owner@new.example.com" {
			t.Errorf("after the key's PUT: %+v", renamed)
		}
		msg := wantError(t, b.do(t, "PUT", "/v1/tenants/new-studio", key, `{"owner_emails":["thief@example.com"]}`), 403, dsr.EFORBIDDEN)
		if !strings.Contains(msg, "owner_emails") {
			t.Errorf("403 message %q does not name owner_emails", msg)
		}
		wantError(t, b.do(t, "PUT", "/v1/tenants/new-studio", key, `{"slug":"other"}`), 422, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "PUT", "/v1/tenants/new-studio", adminToken, `{"slug":"other"}`), 422, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "PUT", "/v1/tenants/new-studio", key, `{"brand_color":"#12"}`), 422, dsr.EUNPROCESSABLE)

		owners := decode[dsr.Tenant](t, b.do(t, "PUT", "/v1/tenants/new-studio", adminToken,
			`{"owner_emails":["a@new.example.com","b@new.example.com"]}`), http.StatusOK)
		if len(owners.OwnerEmails) != 2 || owners.DisplayName != "Renamed Studio" || owners.Slug != "new-studio" {
			t.Errorf("after the admin's PUT: %+v", owners)
		}
		got := decode[dsr.Tenant](t, b.do(t, "GET", "/v1/tenants/new-studio", adminToken, ""), http.StatusOK)
		if got.UpdatedAt.Before(got.CreatedAt) || len(got.OwnerEmails) != 2 {
			t.Errorf("GET after the changes: %+v", got)
		}
		wantError(t, b.do(t, "GET", "/v1/tenants/no-such-studio", adminToken, ""), 404, dsr.ENOTFOUND)
		wantError(t, b.do(t, "PUT", "/v1/tenants/no-such-studio", adminToken, `{"display_name":"X"}`), 404, dsr.ENOTFOUND)
	})
}

// TestUnknownTenantRefused checks every /v1 route that names a tenant: a
// slug nobody registered is 404 in a path or query and 422 in a body, with
// a message that says so; the same call with a registered studio is not
// refused for its tenant. Nothing is written for a refused call.
func TestUnknownTenantRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"file a request", "POST", "/v1/requests", `{"type":"erasure","email":"sam@example.com","tenant":"%s"}`, 422, dsr.EUNPROCESSABLE},
		{"list requests", "GET", "/v1/requests?tenant=%s", "", 404, dsr.ENOTFOUND},
		{"issue a key", "POST", "/v1/tenants/%s/keys", "", 404, dsr.ENOTFOUND},
		{"revoke a key", "DELETE", "/v1/tenants/%s/keys/0123456789abcdef", "", 404, dsr.ENOTFOUND},
		{"read settings", "GET", "/v1/tenants/%s/settings", "", 404, dsr.ENOTFOUND},
		{"change settings", "PUT", "/v1/tenants/%s/settings", `{"obfuscate_history":true}`, 404, dsr.ENOTFOUND},
		{"read the policy", "GET", "/v1/tenants/%s/policy", "", 404, dsr.ENOTFOUND},
		{"hold a tenant", "POST", "/v1/holds", `{"tenant":"%s","reason":"litigation"}`, 422, dsr.EUNPROCESSABLE},
		{"plan", "POST", "/v1/plan", `{"email":"sam@example.com","tenant":"%s"}`, 422, dsr.EUNPROCESSABLE},
		{"redact", "POST", "/v1/redact", `{"tenant":"%s","text":"hello"}`, 422, dsr.EUNPROCESSABLE},
		{"read a profile", "GET", "/v1/tenants/%s", "", 404, dsr.ENOTFOUND},
		{"change a profile", "PUT", "/v1/tenants/%s", `{"display_name":"X"}`, 404, dsr.ENOTFOUND},
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := b.rows(t)
				path, body := strings.Replace(tc.path, "%s", "no-such-studio", 1), strings.Replace(tc.body, "%s", "no-such-studio", 1)
				msg := wantError(t, b.do(t, tc.method, path, adminToken, body), tc.status, tc.code)
				if !strings.Contains(msg, "no-such-studio: not a registered tenant") || !strings.Contains(msg, "POST /v1/tenants") {
					t.Errorf("message %q: want it to say the slug is not registered and how to register it", msg)
				}
				if after := b.rows(t); after != before {
					t.Errorf("a refused call wrote: requests, audit, jobs %v → %v", before, after)
				}
				path, body = strings.Replace(tc.path, "%s", "studio-b", 1), strings.Replace(tc.body, "%s", "studio-b", 1)
				if r := b.do(t, tc.method, path, adminToken, body); strings.Contains(string(r.body), "not a registered tenant") {
					t.Errorf("registered studio-b refused: %d %s", r.status, r.body)
				}
			})
		}
	})
}

// TestUnknownTenantSelfService checks the routes end users reach without a
// token: the API answers 422, /privacy/{tenant} a 404 page, and the page's
// form refuses the slug; no request is filed.
func TestUnknownTenantSelfService(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{})
	before := b.rows(t)
	msg := wantError(t, b.do(t, "POST", "/v1/self/requests", "", `{"type":"access","email":"sam@example.com","tenant":"no-such-studio"}`),
		422, dsr.EUNPROCESSABLE)
	if !strings.Contains(msg, "not a registered tenant") {
		t.Errorf("message %q", msg)
	}
	p := newPageClient(t, b.url)
	res, page := p.get("/privacy/no-such-studio")
	if res.StatusCode != 404 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "We do not know this studio") {
		t.Errorf("GET /privacy/no-such-studio: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res, page = p.get("/privacy/career-coach")
	if res.StatusCode != 200 {
		t.Fatalf("GET /privacy/career-coach: %d", res.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	res, page = p.post("/privacy/request", url.Values{"csrf": {csrf}, "tenant": {"no-such-studio"}, "email": {"ada@example.com"}, "type": {"erasure"}})
	if res.StatusCode != 422 || !strings.Contains(page, "We do not know the studio this form names") || strings.Contains(page, `<label for="code">`) {
		t.Errorf("form with an unknown tenant: %d", res.StatusCode)
	}
	if after := b.rows(t); after != before {
		t.Errorf("refused self-service calls wrote: requests, audit, jobs %v → %v", before, after)
	}
	if r := b.do(t, "POST", "/v1/self/requests", "", `{"type":"access","email":"sam@example.com","tenant":"career-coach"}`); r.status != 202 {
		t.Errorf("registered career-coach: %d %s", r.status, r.body)
	}
}

// TestKeyCannotProbeTenants: a studio's key that names another studio in a
// request's body gets the same answer whether that studio is registered or
// not, so it cannot find out which studios exist.
func TestKeyCannotProbeTenants(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		_, token := b.tenantKey(t, "studio-a")
		for _, other := range []string{"studio-b", "no-such-studio"} {
			body := `{"type":"erasure","email":"ada@example.com","tenant":"` + other + `"}`
			msg := wantError(t, b.do(t, "POST", "/v1/requests", token, body), http.StatusForbidden, dsr.EFORBIDDEN)
			if strings.Contains(msg, "registered") {
				t.Errorf("%s: message %q tells whether the studio is registered", other, msg)
			}
		}
	})
}
