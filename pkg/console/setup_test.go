package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/console"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

const (
	adminToken = "admin-token-for-console-tests-0123456789"
	subjectKey = "console-test-subject-key-0123456789abcdef"
	acmeOwner  = "owner@acme.example"
	globexBoss = "boss@globex.example"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// bundle is one test's console on a real state store, a real HTTP
// listener and a real SMTP server.
type bundle struct {
	db       *state.DB
	clock    *testkit.Clock
	console  *console.Console
	url      string
	smtp     *mailtest.Server
	tenants  *state.Tenants
	keys     *state.KeyService
	audit    *state.AuditLog
	requests *state.RequestService
	hasher   *dsr.SubjectHasher
}

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	ctx := context.Background()
	db, err := state.Open(ctx, testkit.StateURL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &bundle{db: db, clock: testkit.NewClock(t0), smtp: mailtest.Start(t)}
	db.Now = b.clock.Now
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.hasher = dsr.NewSubjectHasher([]byte(subjectKey))
	b.audit = &state.AuditLog{DB: db}
	b.requests = &state.RequestService{DB: db, Subject: b.hasher, Audit: b.audit}
	runs := &state.ExecutionStore{DB: db, Audit: b.audit, Requests: b.requests}
	runner := &dsr.Runner{Store: runs, Executor: dsr.NoRegistryExecutor{}, Now: b.clock.Now, Logger: logger}
	q, err := queue.New(ctx, queue.Config{DB: db, Runner: runner, Logger: logger, Workers: 1, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.requests.Enqueue = q.Enqueue // not started: requests stay pending
	b.tenants = &state.Tenants{DB: db, Audit: b.audit, Subject: b.hasher}
	b.keys = &state.KeyService{DB: db, Audit: b.audit}
	for _, st := range []dsr.Tenant{{Slug: "acme", DisplayName: "Acme Coaching", OwnerEmails: []string{acmeOwner}},
		{Slug: "globex", DisplayName: "Globex Therapy", OwnerEmails: []string{globexBoss}}} {
		if _, err := b.tenants.Create(ctx, "admin", &st); err != nil {
			t.Fatal(err)
		}
	}
	mailer, err := mail.ParseURL(b.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	self := &selfservice.Service{Store: &state.SelfStore{DB: db, Audit: b.audit, Requests: b.requests}, Mail: mailer,
		Subject: b.hasher, Now: b.clock.Now, Logger: logger}
	b.console = &console.Console{Requests: b.requests, Tenants: b.tenants, Audit: b.audit, Subject: b.hasher,
		Sessions: &state.ConsoleSessions{DB: db}, Mail: mailer, Limiter: self, AdminToken: adminToken,
		Steps: func(ctx context.Context, id string) ([]dsr.Step, error) { return runs.Journal(id).Steps(ctx) },
		Now:   b.clock.Now, Logger: logger}
	b.console.SendMailInline()
	hs := httptest.NewServer(b.console.Handler())
	t.Cleanup(hs.Close)
	b.url = hs.URL
	b.console.PublicURL = hs.URL
	return b
}

// forEachDialect runs fn on a fresh console over each state store.
func forEachDialect(t *testing.T, fn func(t *testing.T, b *bundle)) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) { fn(t, setup(t, dialect)) })
}

// browser is a person's client: a cookie jar and no redirects followed
// silently past what the test reads.
type browser struct {
	t      *testing.T
	b      *bundle
	client *http.Client
	header http.Header // sent with every request
}

func (b *bundle) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, b: b, client: &http.Client{Jar: jar}, header: http.Header{}}
}

type page struct {
	status int
	body   string
	header http.Header
}

func (p page) has(s string) bool { return strings.Contains(p.body, s) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the first form token of the page.
func (p page) csrf() string {
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

func (br *browser) do(method, path string, form url.Values) page {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.b.url+path, body)
	if err != nil {
		br.t.Fatal(err)
	}
	for k, v := range br.header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		br.t.Fatal(err)
	}
	return page{status: res.StatusCode, body: string(out), header: res.Header}
}

func (br *browser) get(path string) page { br.t.Helper(); return br.do(http.MethodGet, path, nil) }

// post sends form from the page at from, with that page's CSRF token.
func (br *browser) post(from, path string, form url.Values) page {
	br.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", br.get(from).csrf())
	return br.do(http.MethodPost, path, form)
}

var linkRE = regexp.MustCompile(`https?://\S+/console/signin/[A-Za-z0-9_-]+`)

// askLink asks for a sign-in link for email and returns the page.
func (br *browser) askLink(email string) page {
	br.t.Helper()
	return br.post("/console", "/console/signin", url.Values{"email": {email}})
}

// mailedLink returns the path of the newest sign-in link mailed to email.
func (b *bundle) mailedLink(t *testing.T, email string) string {
	t.Helper()
	var link string
	for _, m := range b.smtp.Messages() {
		if len(m.To) == 1 && m.To[0] == email {
			if l := linkRE.FindString(m.Body); l != "" {
				link = l
			}
		}
	}
	if link == "" {
		t.Fatalf("no sign-in link was mailed to %s", email)
	}
	return strings.TrimPrefix(link, b.url)
}

// signIn signs email in by the mailed link and returns the browser.
func (b *bundle) signIn(t *testing.T, email string) *browser {
	t.Helper()
	br := b.browser(t)
	br.askLink(email)
	link := b.mailedLink(t, email)
	if p := br.post(link, link, nil); p.status != http.StatusOK || !p.has(`id="signout"`) {
		t.Fatalf("signing in by the link answered %d:\n%s", p.status, p.body)
	}
	return br
}

// signInAdmin signs the admin in with the token.
func (b *bundle) signInAdmin(t *testing.T) *browser {
	t.Helper()
	br := b.browser(t)
	if p := br.post("/console/admin/signin", "/console/admin/signin", url.Values{"token": {adminToken}}); !p.has("Lethe · admin") {
		t.Fatalf("admin sign-in answered %d:\n%s", p.status, p.body)
	}
	return br
}
