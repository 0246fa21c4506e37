package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Pinger is something /readyz checks: the state store and each data store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is Lethe's HTTP server. Fields are set by main before Open.
type Server struct {
	AdminToken string
	// AdminTokenPrevious are the admin tokens AdminToken replaced, still
	// accepted while listed (LETHE_ADMIN_TOKEN_PREVIOUS).
	AdminTokenPrevious []string
	Requests           dsr.RequestService
	Keys               dsr.KeyService
	// Tenants is the registry of studios: a slug it does not know is
	// refused on every route that names a tenant.
	Tenants dsr.TenantService
	Audit   dsr.AuditLog
	// Planner answers POST /v1/plan; nil without a registry.
	Planner Planner
	// Subject hashes emails for the audit trail.
	Subject *dsr.SubjectHasher
	// Ready maps a name ("state", a store name) to what /readyz pings.
	Ready   map[string]Pinger
	Metrics *prometheus.Registry
	Logger  *slog.Logger
	Now     dsr.Clock
	// Steps returns the journal of a request for GET /v1/requests/{id}.
	Steps func(ctx context.Context, id string) ([]dsr.Step, error)
	// Exports serves access packages; nil answers 409 on the export route.
	Exports dsr.ExportService
	// Retention, Holds and Settings serve the retention routes; Registry
	// checks tenant overrides and answers the policy; LastSweep tells when
	// the last real sweep completed. All nil without a registry.
	Retention RetentionRuns
	Holds     retention.HoldStore
	Settings  retention.SettingsStore
	Registry  *registry.Registry
	LastSweep func(ctx context.Context) (*time.Time, error)
	// Redactors answers POST /v1/redact with each tenant's pseudonyms; nil
	// answers 503.
	Redactors *redact.Keyring
	// ResponsesEvery is how often the responses sweep runs, as the policy
	// and the confirmation of collect_responses tell (0: one minute).
	ResponsesEvery time.Duration
	// Self serves the end users' self-service routes and /privacy page,
	// which take no token; nil answers 503 there.
	Self dsr.SelfService
	// OpenDSR serves the OpenDSR 2.0 and OpenGDPR routes; nil (no
	// LETHE_OPENDSR_KEY) answers 503 there.
	OpenDSR *opendsr.Service
	// Ended is told of a request the API ended (a denial), so the person
	// hears of it at once; nil leaves it to the outbox sweep.
	Ended dsr.EndObserver

	echo        *echo.Echo
	redactSpans *prometheus.CounterVec // lethe_redact_spans_total by kind
	routes      map[string]bool        // registered route templates, the only route labels
	ready       readyCache
}

// Handler builds the routes and returns the server's http.Handler.
func (s *Server) Handler() http.Handler {
	if s.echo != nil {
		return s.echo
	}
	if s.Metrics == nil {
		// Before instrument, which registers the latency histogram on it.
		s.Metrics = prometheus.NewRegistry()
	}
	s.redactSpans = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lethe_redact_spans_total",
		Help: "Values POST /v1/redact replaced with pseudonyms, by kind."}, []string{"kind"})
	s.Metrics.MustRegister(s.redactSpans)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(s.Logger)
	e.Use(middleware.Recover())
	e.Use(s.instrument())
	e.Use(middleware.BodyLimit("64KiB")) // "64K" would be 64000 bytes, below maxBody

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics())
	e.GET("/openapi.json", s.openAPI)

	// End-user self-service: no token; the emailed code or link is the proof.
	e.POST("/v1/self/requests", s.createSelfRequest)
	e.POST("/v1/self/requests/:id/verify", s.verifySelfRequest)
	e.GET("/v1/self/exports/:token", s.getSelfExport)
	e.GET("/privacy", s.privacyHome)
	e.GET("/privacy/:tenant", s.privacyHome)
	e.POST("/privacy/request", s.privacyAsk)
	e.POST("/privacy/verify", s.privacyVerify)

	s.odsrRoutes(e)

	// Authentication is route middleware, not group middleware: a group's
	// middleware makes echo register a catch-all that turns a wrong
	// method into 404 instead of 405 with Allow.
	v1 := e.Group("/v1")
	auth := []echo.MiddlewareFunc{s.authenticate}
	admin := []echo.MiddlewareFunc{s.authenticate, adminOnly}
	v1.POST("/requests", s.createRequest, auth...)
	v1.GET("/requests", s.listRequests, auth...)
	v1.GET("/requests/:id", s.getRequest, auth...)
	v1.POST("/requests/:id/cancel", s.cancelRequest, auth...)
	v1.POST("/requests/:id/extend", s.extendRequest, auth...)
	v1.POST("/requests/:id/approve", s.approveRequest, auth...)
	v1.POST("/requests/:id/deny", s.denyRequest, auth...)
	v1.GET("/requests/:id/export", s.getExport, auth...)
	v1.POST("/tenants", s.createTenant, admin...)
	v1.GET("/tenants", s.listTenants, admin...)
	v1.GET("/tenants/:tenant", s.getTenant, auth...)
	v1.PUT("/tenants/:tenant", s.putTenant, auth...)
	v1.POST("/tenants/:tenant/keys", s.createKey, admin...)
	v1.DELETE("/tenants/:tenant/keys/:id", s.revokeKey, admin...)
	v1.POST("/tenants/:tenant/keys/:id/rotate", s.rotateKey, admin...)
	v1.POST("/plan", s.plan, auth...)
	v1.GET("/audit", s.listAudit, admin...)
	v1.GET("/audit/verify", s.verifyAudit, admin...)
	v1.POST("/retention/runs", s.startRun, admin...)
	v1.GET("/retention/runs", s.listRuns, admin...)
	v1.GET("/retention/runs/:id", s.getRun, admin...)
	v1.GET("/tenants/:tenant/settings", s.getSettings, auth...)
	v1.PUT("/tenants/:tenant/settings", s.putSettings, auth...)
	v1.GET("/tenants/:tenant/policy", s.getPolicy, auth...)
	v1.POST("/redact", s.redact, auth...)
	v1.POST("/holds", s.createHold, admin...)
	v1.GET("/holds", s.listHolds, admin...)
	v1.DELETE("/holds/:id", s.releaseHold, admin...)
	s.routes = map[string]bool{}
	for _, r := range e.Routes() {
		s.routes[r.Path] = true
	}
	s.echo = e
	return e
}
