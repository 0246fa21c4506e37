package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestOpenAPIMatchesRoutes checks that the served document is OpenAPI 3 and
// describes exactly the routes the server registers.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, state.SQLite)
	r := b.do(t, "GET", "/openapi.json", "", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Info    struct{ Title, Version string }       `json:"info"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("openapi %q, info %+v: want an OpenAPI 3 document with a title and version", doc.OpenAPI, doc.Info)
	}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}
	var documented []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if methods[m] {
				documented = append(documented, strings.ToUpper(m)+" "+path)
			}
		}
	}

	e, ok := b.srv.Handler().(*echo.Echo)
	if !ok {
		t.Fatalf("Handler() is a %T, not an *echo.Echo", b.srv.Handler())
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	var registered []string
	for _, rt := range e.Routes() {
		if rt.Method == echo.RouteNotFound {
			continue // the group's catch-all, which answers 404
		}
		registered = append(registered, rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	registered = slices.Compact(registered)
	if !slices.Equal(documented, registered) {
		t.Errorf("openapi.json documents\n  %s\nthe server registers\n  %s", strings.Join(documented, "\n  "), strings.Join(registered, "\n  "))
	}
	if len(registered) < 13 {
		t.Errorf("only %d routes registered", len(registered))
	}
}
