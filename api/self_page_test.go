package api_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// pageClient is a browser without JavaScript: a cookie jar and forms.
type pageClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newPageClient(t *testing.T, base string) *pageClient {
	jar, _ := cookiejar.New(nil)
	return &pageClient{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (p *pageClient) get(path string) (*http.Response, string) {
	p.t.Helper()
	res, err := p.http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	return res, readAll(p.t, res)
}

func (p *pageClient) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := p.http.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	return res, readAll(p.t, res)
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// TestPrivacyPageFlow walks the page without JavaScript: the form, the
// code, the confirmation; and checks its headers and labels.
func TestPrivacyPageFlow(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{})
	p := newPageClient(t, b.url)
	res, page := p.get("/privacy/career-coach")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /privacy/career-coach: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(page, "<script") {
		t.Errorf("the page allows or carries scripts: %s", csp)
	}
	for _, label := range []string{`<label for="email">`, `<label for="type-access">Download my data`, `<label for="type-erasure">Delete my data`} {
		if !strings.Contains(page, label) {
			t.Errorf("page lacks %s", label)
		}
	}
	csrf := csrfField.FindStringSubmatch(page)[1]

	res, page = p.post("/privacy/request", url.Values{"csrf": {csrf}, "tenant": {"career-coach"}, "email": {"ada@example.com"}, "type": {"erasure"}})
	if res.StatusCode != 200 || !strings.Contains(page, `<label for="code">`) {
		t.Fatalf("after the first form: %d %s", res.StatusCode, page)
	}
	code := b.smtp.Wait(t, "ada@example.com", "code", 0).Code()
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)[1]
	res, page = p.post("/privacy/verify", url.Values{"csrf": {csrf}, "tenant": {"career-coach"}, "id": {id}, "code": {wrong(code)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "That code is not right. You can try 2 more times.") || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("wrong code: %d %s", res.StatusCode, page)
	}
	res, page = p.post("/privacy/verify", url.Values{"csrf": {csrf}, "tenant": {"career-coach"}, "id": {id}, "code": {code}})
	if res.StatusCode != 200 || !strings.Contains(page, "your request is confirmed") || !strings.Contains(page, "we forget your address") {
		t.Fatalf("right code: %d %s", res.StatusCode, page)
	}
}

// TestPrivacyPageEscapesAndRefusesForeignForms: what a person typed is
// shown back escaped, and a form without the page's token or from another
// origin does nothing.
func TestPrivacyPageEscapesAndRefusesForeignForms(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{})
	p := newPageClient(t, b.url)
	_, page := p.get("/privacy")
	csrf := csrfField.FindStringSubmatch(page)[1]

	evil := `"><script>alert(1)</script>@x.example`
	res, page := p.post("/privacy/request", url.Values{"csrf": {csrf}, "email": {evil}, "type": {"access"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d", res.StatusCode)
	}
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("input not escaped: %s", page)
	}
	res, page = p.get("/privacy/%3Cscript%3E")
	if res.StatusCode != http.StatusNotFound || strings.Contains(page, "<script>") {
		t.Errorf("bad tenant: %d %s", res.StatusCode, page)
	}

	form := url.Values{"email": {"ada@example.com"}, "type": {"access"}}
	res, _ = p.post("/privacy/request", form) // no token
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("form without token: %d", res.StatusCode)
	}
	form.Set("csrf", csrf)
	res, _ = p.post("/privacy/request", form, "Origin", "https://evil.example")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("form from another origin: %d", res.StatusCode)
	}
	if n := len(b.smtp.Messages()); n != 0 {
		t.Errorf("refused forms sent %d emails", n)
	}
}
