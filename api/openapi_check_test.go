package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// apiDoc loads api/openapi.json once, checks that it is a valid OpenAPI 3
// document and closes every object schema that lists its properties
// (additionalProperties: false unless the document says otherwise), so a
// field the server sends or accepts that the document does not name fails
// the test that sent it.
var apiDoc = sync.OnceValues(func() (routers.Router, error) {
	// Bodies the document describes as files or text are checked by
	// content type only.
	for _, ct := range []string{"application/zip", "application/octet-stream", "text/html", "text/plain", "application/x-pem-file"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not valid OpenAPI 3: %w", err)
	}
	seen := map[*openapi3.Schema]bool{}
	for _, s := range doc.Components.Schemas {
		closeSchema(s, seen)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					closeSchema(mt.Schema, seen)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						closeSchema(mt.Schema, seen)
					}
				}
			}
		}
	}
	return gorillamux.NewRouter(doc)
})

// closeSchema sets additionalProperties: false on every object schema
// under ref that has properties and says nothing of others.
func closeSchema(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		no := false
		s.AdditionalProperties.Has = &no
	}
	for _, p := range s.Properties {
		closeSchema(p, seen)
	}
	closeSchema(s.Items, seen)
	closeSchema(s.AdditionalProperties.Schema, seen)
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			closeSchema(r, seen)
		}
	}
}

// checkedServer serves h on a real listener for the test, and checks
// every request and response against api/openapi.json: a response whose
// status, content type or body the document does not describe fails the
// test, and so does a request the document calls invalid that the server
// accepted (2xx). Requests to routes the document does not list must be
// answered 404 or 405.
func checkedServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	router, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		if msg := conformance(router, r, body, rec); msg != "" {
			t.Errorf("openapi.json: %s %s → %d: %s", r.Method, r.URL.Path, rec.Code, msg)
		}
	}))
	t.Cleanup(hs.Close)
	return hs
}

// conformance returns what in one exchange the document does not
// describe ("" when it all conforms).
func conformance(router routers.Router, r *http.Request, body []byte, rec *httptest.ResponseRecorder) string {
	// Route by a copy that carries the test server's URL as the client sent it.
	req := r.Clone(context.Background())
	req.URL.Scheme, req.URL.Host = "http", r.Host
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			return ""
		}
		if r.Method == http.MethodOptions && rec.Code == http.StatusNoContent && rec.Body.Len() == 0 {
			return "" // echo's own answer: the Allow header, no body
		}
		return "route not in the document: " + err.Error()
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && rec.Code < 300 {
		return "the server accepted a request the document calls invalid: " + err.Error()
	}
	// kin-openapi checks no body where the document describes none; a
	// body there is a field set the document does not name.
	if resp := route.Operation.Responses.Status(rec.Code); resp != nil && resp.Value != nil && len(resp.Value.Content) == 0 && rec.Body.Len() > 0 {
		return "response: a body the document does not describe: " + rec.Body.String()
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: opts}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return "response: " + err.Error()
	}
	return ""
}

// TestOpenAPICheckCatchesDrift: the check every API test runs through
// refuses a response field, a request field and a status the document does
// not name, and passes what it does.
func TestOpenAPICheckCatchesDrift(t *testing.T) {
	t.Parallel()
	router, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	answer := func(status int, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec
	}
	ticket := `{"id":"0190f3a0-0000-7000-8000-000000000001","status":"verifying","code_expires_at":"2025-03-01T12:10:00Z"}`
	for _, tc := range []struct {
		name, method, path, body string
		rec                      *httptest.ResponseRecorder
		drift                    bool
	}{
		{name: "as documented", method: "GET", path: "/healthz", rec: answer(200, `{"status":"ok"}`)},
		{name: "a response field not documented", method: "GET", path: "/healthz", rec: answer(200, `{"status":"ok","uptime":3}`), drift: true},
		{name: "a status not documented", method: "GET", path: "/healthz", rec: answer(418, `{"status":"ok"}`), drift: true},
		{name: "a documented request", method: "POST", path: "/v1/self/requests", body: `{"type":"access","email":"a@example.com"}`,
			rec: answer(202, ticket)},
		{name: "a request field not documented, accepted", method: "POST", path: "/v1/self/requests",
			body: `{"type":"access","email":"a@example.com","locale":"de"}`, rec: answer(202, ticket), drift: true},
		{name: "a request field not documented, refused", method: "POST", path: "/v1/self/requests",
			body: `{"type":"access","email":"a@example.com","locale":"de"}`, rec: answer(400, `{"error":{"code":"invalid","message":"body: unknown field \"locale\""}}`)},
		{name: "a route not documented", method: "GET", path: "/v1/secret", rec: answer(200, `{}`), drift: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://lethe.test"+tc.path, strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			msg := conformance(router, r, []byte(tc.body), tc.rec)
			if (msg != "") != tc.drift {
				t.Errorf("conformance: %q; want drift %v", msg, tc.drift)
			}
		})
	}
}
