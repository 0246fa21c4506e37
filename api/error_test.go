package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestWrongMethodIs405WithAllow: a method a path does not take answers 405
// with Allow naming those it takes, authenticated or not, on the /v1 routes
// as on the others.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	for _, tc := range []struct {
		method, path, token string
		allow               []string
	}{
		{"PUT", "/healthz", "", []string{"GET"}},
		{"DELETE", "/v1/requests", adminToken, []string{"GET", "POST"}},
		{"DELETE", "/v1/requests", "", []string{"GET", "POST"}},
		{"POST", "/v1/requests/0190f3a0-0000-7000-8000-000000000001", adminToken, []string{"GET"}},
		{"PATCH", "/v1/tenants/studio-a/settings", adminToken, []string{"GET", "PUT"}},
		{"BREW", "/v1/holds", "", []string{"GET", "POST"}},
		{"GET", "/v1/self/requests", "", []string{"POST"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := b.do(t, tc.method, tc.path, tc.token, "")
			msg := wantError(t, r, http.StatusMethodNotAllowed, dsr.EINVALID)
			if !strings.Contains(msg, tc.method) || !strings.Contains(msg, tc.allow[0]) {
				t.Errorf("message %q names neither the method nor those allowed", msg)
			}
			allow := strings.Split(strings.ReplaceAll(r.header.Get("Allow"), " ", ""), ",")
			for _, m := range tc.allow {
				if !slices.Contains(allow, m) {
					t.Errorf("Allow %q lacks %s", r.header.Get("Allow"), m)
				}
			}
			if slices.Contains(allow, tc.method) {
				t.Errorf("Allow %q names the refused method", r.header.Get("Allow"))
			}
		})
	}
	// A path that does not exist is still 404.
	wantError(t, b.do(t, "GET", "/v1/nothing", adminToken, ""), http.StatusNotFound, dsr.ENOTFOUND)
}

// goType matches what a Go type name looks like in a message: a package
// qualifier (dsr.Type, api.createRequestBody), a map, slice or pointer type.
var goType = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[A-Za-z]\w*|map\[|\[\]\w|\*\w|\bstruct\b|\bint64\b|\bfloat64\b`)

// TestErrorsNameNoGoTypes: a body of the wrong shape is refused with a
// message in JSON's words, never a Go type's name.
func TestErrorsNameNoGoTypes(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	for _, tc := range []struct {
		method, path, body, want string
	}{
		{"POST", "/v1/requests", `[]`, "a JSON object is required, not an array"},
		{"POST", "/v1/requests", `"erasure"`, "a JSON object is required, not a string"},
		{"POST", "/v1/requests", `{"type":3,"email":"a@example.com"}`, `field "type" must be a string, not a number`},
		{"POST", "/v1/requests", `{"type":"access","email":["a@example.com"]}`, `field "email" must be a string, not an array`},
		{"POST", "/v1/requests/0190f3a0-0000-7000-8000-000000000001/extend", `{"days":"ten"}`, `must be an integer, not a string`},
		{"PUT", "/v1/tenants/studio-a/settings", `{"retention":["7d"]}`, `field "retention" must be an object, not an array`},
		{"PUT", "/v1/tenants/studio-a/settings", `{"collect_responses":"no"}`, `field "collect_responses" must be true or false, not a string`},
	} {
		t.Run(tc.path+" "+tc.body, func(t *testing.T) {
			msg := wantError(t, b.do(t, tc.method, tc.path, adminToken, tc.body), http.StatusBadRequest, dsr.EINVALID)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want it to say %q", msg, tc.want)
			}
			if m := goType.FindString(msg); m != "" {
				t.Errorf("message %q names a Go type (%q)", msg, m)
			}
		})
	}
}
