package console

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Default timeouts of a session and of a sign-in link.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	LinkTTL            = 15 * time.Minute
)

// Sessions keeps sign-in links and sessions (pkg/state's ConsoleSessions).
type Sessions interface {
	SaveLink(ctx context.Context, tokenHash string, l dsr.ConsoleLink, now, expires time.Time) error
	// UseLink spends a link; ENOTFOUND for one unknown, used or expired.
	UseLink(ctx context.Context, tokenHash string, now time.Time) (*dsr.ConsoleLink, error)
	OpenSession(ctx context.Context, s *dsr.ConsoleSession) error
	// Session returns a session revoked or not; ENOTFOUND.
	Session(ctx context.Context, tokenHash string) (*dsr.ConsoleSession, error)
	Touch(ctx context.Context, tokenHash string, now time.Time) error
	Revoke(ctx context.Context, tokenHash string, now time.Time) error
	RevokeTenant(ctx context.Context, tenant string, now time.Time) (int64, error)
	Prune(ctx context.Context, before time.Time) error
}

// Limiter counts attempts in the state store, as self-service does
// (selfservice.Service.Limit): a *dsr.RateLimitError past max in window.
type Limiter interface {
	Limit(ctx context.Context, kind, value string, max int, window time.Duration) error
}

// Planner answers an erasure's dry run (the registry engine).
type Planner interface {
	Plan(ctx context.Context, email, tenant string) (*engine.Plan, error)
}

// RetentionRuns reads sweeps and queues a dry run (pkg/state's
// RetentionRuns).
type RetentionRuns interface {
	retention.RunReader
	Queue(ctx context.Context, actor string, dryRun bool) (*retention.Run, error)
}

// Console serves the pages. Fields are set by main before Handler; the
// registry's parts (Planner, Registry, Settings, Runs, Holds) are nil
// without a registry, and the pages say so.
type Console struct {
	Requests dsr.RequestService
	Tenants  dsr.TenantService
	Audit    dsr.AuditLog
	Subject  *dsr.SubjectHasher
	Sessions Sessions
	Mail     mail.Mailer
	Limiter  Limiter
	// ClientIP is the address the sign-in limits count (the API's, with
	// its trusted proxies); nil takes the connection's.
	ClientIP   func(*http.Request) string
	AdminToken string
	// AdminTokenPrevious are admin tokens AdminToken replaced, still
	// accepted while listed.
	AdminTokenPrevious []string
	// PublicURL is where people reach Lethe: the emailed link's base, and
	// with https the sessions' cookies are Secure.
	PublicURL string

	Planner  Planner
	Registry *registry.Registry
	Steps    func(ctx context.Context, id string) ([]dsr.Step, error)
	Settings retention.SettingsStore
	Runs     RetentionRuns
	Holds    retention.HoldStore
	Exports  dsr.ExportService
	// Logos is the bucket studio logos are kept in (the export bucket);
	// nil: no logo can be uploaded.
	Logos *blob.Bucket
	// Ended is told of a request the console ended (a denial), so the
	// person hears of it at once; nil leaves it to the outbox sweep.
	Ended dsr.EndObserver
	// ResponsesEvery is how often the responses sweep runs (0: default).
	ResponsesEvery time.Duration

	IdleTimeout time.Duration // default DefaultIdleTimeout
	MaxAge      time.Duration // default DefaultMaxAge
	Now         func() time.Time
	Logger      *slog.Logger

	// mailWait, when set, is given each sign-in mail's sending, which
	// runs after the answer: tests wait on it.
	mailWait func(func())
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Console) idle() time.Duration   { return cmp.Or(c.IdleTimeout, DefaultIdleTimeout) }
func (c *Console) maxAge() time.Duration { return cmp.Or(c.MaxAge, DefaultMaxAge) }

func (c *Console) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Handler returns the console's routes, all under /console.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console", c.home)
	mux.HandleFunc("GET /console/{$}", c.home)
	mux.HandleFunc("POST /console/signin", c.askLink)
	mux.HandleFunc("GET /console/signin/{token}", c.showLink)
	mux.HandleFunc("POST /console/signin/{token}", c.useLink)
	mux.HandleFunc("GET /console/admin/signin", c.adminForm)
	mux.HandleFunc("POST /console/admin/signin", c.adminSignIn)
	mux.HandleFunc("POST /console/signout", c.signOut)
	for _, p := range c.pages() {
		mux.Handle(p.Route, c.page(p))
	}
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, dsr.Errorf(dsr.ENOTFOUND, "There is no such page: check the address."))
	})
	return mux
}

// secure tells whether cookies must be Secure: the request came over TLS,
// or people reach Lethe by an https public URL (behind a proxy).
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

// clientIP is the address the limits count.
func (c *Console) clientIP(r *http.Request) string {
	if c.ClientIP != nil {
		return c.ClientIP(r)
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = strings.Trim(host[:i], "[]")
	}
	return host
}

// sameOrigin tells whether a form's Origin header (when the browser sent
// one) is this site: the public URL's scheme and host, or the request's.
func (c *Console) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	if p, err := url.Parse(c.PublicURL); err == nil && p.Host != "" && strings.EqualFold(p.Scheme+"://"+p.Host, u.Scheme+"://"+u.Host) {
		return true
	}
	return u.Host == r.Host
}
