package main

import (
	"context"
	"net/http"
	"time"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/console"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newConsole builds the owners' console over the services the API uses:
// sign-in mail and limits are self-service's, logos go to the export
// bucket, and the registry's parts are left nil without a registry.
func (m *Main) newConsole(cfg Config, svc *services, self *selfservice.Service, responsesEvery time.Duration) *console.Console {
	c := &console.Console{
		Requests: svc.Requests, Tenants: svc.Tenants, Audit: svc.Audit, Subject: svc.Hasher,
		Sessions: &state.ConsoleSessions{DB: m.DB}, Mail: self.Mail, Limiter: self, ClientIP: api.ClientIP(self.Limits.TrustedProxies),
		AdminToken: cfg.AdminToken, AdminTokenPrevious: splitKeys(cfg.AdminTokenPrevious), PublicURL: self.PublicURL, Holds: svc.Holds, ResponsesEvery: responsesEvery,
		Steps: func(ctx context.Context, id string) ([]dsr.Step, error) { return svc.Execution.Journal(id).Steps(ctx) },
		Now:   time.Now, Logger: m.Logger, Ended: self,
	}
	if m.App != nil {
		c.Planner, c.Registry, c.Settings, c.Runs = m.App.Engine, m.App.Registry, svc.Settings, svc.Runs
	}
	if m.Exports != nil {
		c.Exports, c.Logos = m.Exports, m.Exports.Bucket
	}
	return c
}

// withConsole serves /console and everything below it from the console,
// and the rest from the API. The console is outside the API's 64 KiB
// body limit: a logo may be larger (it checks its own bounds).
func withConsole(apiHandler, consoleHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/console", consoleHandler)
	mux.Handle("/console/", consoleHandler)
	mux.Handle("/", apiHandler)
	return mux
}
