package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// ReadyTTL is how long /readyz answers from its last round of pings: an
// orchestrator, a load balancer and a curious client polling it do not
// each cost a round trip to every store.
const ReadyTTL = 5 * time.Second

// readyCache holds the last /readyz answer. Its lock is held while the
// stores are pinged, so concurrent calls wait for one round of pings and
// share it rather than each starting their own.
type readyCache struct {
	mu     sync.Mutex
	at     time.Time // when the pings ran; zero before the first
	status int
	body   map[string]any
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz pings each dependency with a short timeout, at most once per
// ReadyTTL by the server's clock; 503 names the ones down.
func (s *Server) readyz(c echo.Context) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	rc := &s.ready
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if t := now(); rc.at.IsZero() || !t.Before(rc.at.Add(ReadyTTL)) || t.Before(rc.at) {
		// Not the caller's context: a client that hangs up must not cache a
		// failed round for everyone.
		rc.status, rc.body = s.ping(context.WithoutCancel(c.Request().Context()))
		rc.at = t
	}
	return c.JSON(rc.status, rc.body)
}

// ping pings every dependency and returns the /readyz status and body.
func (s *Server) ping(ctx context.Context) (int, map[string]any) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	var down []string
	for name, p := range s.Ready {
		if err := p.Ping(ctx); err != nil {
			checks[name] = "unreachable"
			if de := (*dsr.Error)(nil); errors.As(err, &de) { // reached, and it says what is wrong
				checks[name] = de.Message
			}
			down = append(down, name)
			s.Logger.Warn("readiness check failed", "dependency", name, "error", err)
		} else {
			checks[name] = "ok"
		}
	}
	sort.Strings(down)
	if len(down) > 0 {
		return http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks, "down": down}
	}
	return http.StatusOK, map[string]any{"status": "ok", "checks": checks}
}
