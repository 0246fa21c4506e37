package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/pkg/state"
)

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		_, token := b.tenantKey(t, "studio-a")
		id, _, _ := strings.Cut(strings.TrimPrefix(token, "lethe_"), "_")
		cases := []struct {
			name   string
			header string // the whole Authorization header; "" for none
			status int
		}{
			{name: "no header", status: http.StatusUnauthorized},
			{name: "empty bearer", header: "Bearer ", status: http.StatusUnauthorized},
			{name: "basic scheme", header: "Basic " + adminToken, status: http.StatusUnauthorized},
			{name: "wrong token", header: "Bearer not-the-admin-token", status: http.StatusUnauthorized},
			{name: "admin token with a suffix", header: "Bearer " + adminToken + "x", status: http.StatusUnauthorized},
			{name: "tenant key with a wrong secret", header: "Bearer lethe_" + id + "_wrongsecretwrongsecretwrongsecretwrongsecr", status: http.StatusUnauthorized},
			{name: "admin", header: "Bearer " + adminToken, status: http.StatusOK},
			{name: "tenant key", header: "Bearer " + token, status: http.StatusOK},
			{name: "lower-case scheme", header: "bearer " + adminToken, status: http.StatusOK},
			{name: "upper-case scheme", header: "BEARER " + token, status: http.StatusOK},
			{name: "scheme alone", header: "bearer", status: http.StatusUnauthorized},
			{name: "scheme glued to the token", header: "Bearer" + adminToken, status: http.StatusUnauthorized},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var hdr []string
				if tc.header != "" {
					hdr = []string{"Authorization", tc.header}
				}
				r := b.do(t, "GET", "/v1/requests", "", "", hdr...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, "unauthorized")
				} else if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
			})
		}
	})
}

// TestTenantKeyLifecycle issues a key as admin, uses it for its own tenant
// only, and revokes it.
func TestTenantKeyLifecycle(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		keyID, token := b.tenantKey(t, "studio-a")
		theirs := b.fileRequest(t, adminToken, "erasure", "nina@example.com", "studio-b")

		mine := b.fileRequest(t, token, "erasure", "oscar@example.com", "")
		if mine.Tenant != "studio-a" || mine.Status != "pending" || !mine.DueAt.Equal(mine.CreatedAt.Add(30*24*time.Hour)) {
			t.Errorf("filed %+v, want a pending studio-a request due in 30 days", mine)
		}
		got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+mine.ID, token, ""), http.StatusOK)
		if got.ID != mine.ID || got.Tenant != "studio-a" || got.Counts == nil {
			t.Errorf("got %+v", got)
		}
		list := decode[listBody](t, b.do(t, "GET", "/v1/requests", token, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].ID != mine.ID || list.NextCursor != nil {
			t.Errorf("tenant key lists %+v, want only its own request", list)
		}
		all := decode[listBody](t, b.do(t, "GET", "/v1/requests", adminToken, ""), http.StatusOK)
		if len(all.Items) != 2 {
			t.Errorf("admin lists %d requests, want 2", len(all.Items))
		}

		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{name: "another tenant's request", method: "GET", path: "/v1/requests/" + theirs.ID, status: 404, code: "not_found"},
			{name: "cancel another tenant's request", method: "POST", path: "/v1/requests/" + theirs.ID + "/cancel", body: `{"reason":"no longer wanted"}`, status: 404, code: "not_found"},
			{name: "file for another tenant", method: "POST", path: "/v1/requests", body: `{"type":"access","email":"p@example.com","tenant":"studio-b"}`, status: 403, code: "forbidden"},
			{name: "issue a key", method: "POST", path: "/v1/tenants/studio-a/keys", status: 403, code: "forbidden"},
			{name: "revoke a key", method: "DELETE", path: "/v1/tenants/studio-a/keys/" + keyID, status: 403, code: "forbidden"},
			{name: "read the audit trail", method: "GET", path: "/v1/audit", status: 403, code: "forbidden"},
			{name: "verify the audit trail", method: "GET", path: "/v1/audit/verify", status: 403, code: "forbidden"},
			// Another tenant's settings and policy are as invisible as its requests.
			{name: "read another tenant's settings", method: "GET", path: "/v1/tenants/studio-b/settings", status: 404, code: "not_found"},
			{name: "change another tenant's settings", method: "PUT", path: "/v1/tenants/studio-b/settings", body: `{"retention":{}}`, status: 404, code: "not_found"},
			{name: "read another tenant's policy", method: "GET", path: "/v1/tenants/studio-b/policy", status: 404, code: "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := b.rows(t)
				wantError(t, b.do(t, tc.method, tc.path, token, tc.body), tc.status, tc.code)
				if after := b.rows(t); after != before {
					t.Errorf("rows (requests, audit, jobs) went from %v to %v", before, after)
				}
			})
		}
		if r := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+theirs.ID, adminToken, ""), http.StatusOK); r.Status != "pending" {
			t.Errorf("the other tenant's request is %s, want pending", r.Status)
		}

		// The token is shown once: nothing the admin can read later holds it.
		secret := strings.TrimPrefix(token, "lethe_"+keyID+"_")
		for _, path := range []string{"/v1/audit", "/v1/requests", "/v1/audit/verify"} {
			if r := b.do(t, "GET", path, adminToken, ""); r.status != http.StatusOK || strings.Contains(string(r.body), secret) {
				t.Errorf("GET %s: %d, holds the key's secret: %v", path, r.status, strings.Contains(string(r.body), secret))
			}
		}

		wantError(t, b.do(t, "DELETE", "/v1/tenants/studio-b/keys/"+keyID, adminToken, ""), 404, "not_found")
		if r := b.do(t, "DELETE", "/v1/tenants/studio-a/keys/"+keyID, adminToken, ""); r.status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		wantError(t, b.do(t, "GET", "/v1/requests/"+mine.ID, token, ""), 401, "unauthorized")
		wantError(t, b.do(t, "GET", "/v1/requests", token, ""), 401, "unauthorized")
		wantError(t, b.do(t, "POST", "/v1/tenants/-bad/keys", adminToken, ""), 422, "unprocessable")
	})
}

// TestEveryV1RouteNeedsAToken: authentication is attached route by route
// (see Server.Handler), so every /v1 route but the end users' self-service
// ones is checked here to answer 401 without a token.
func TestEveryV1RouteNeedsAToken(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	e := b.srv.Handler().(*echo.Echo)
	n := 0
	for _, rt := range e.Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || strings.HasPrefix(rt.Path, "/v1/self/") {
			continue
		}
		path := strings.NewReplacer(":tenant", "studio-a", ":id", "0190f3a0-0000-7000-8000-000000000001").Replace(rt.Path)
		wantError(t, b.do(t, rt.Method, path, "", ""), http.StatusUnauthorized, "unauthorized")
		n++
	}
	if n < 20 {
		t.Errorf("checked %d /v1 routes; the server registers more", n)
	}
}
