package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz pings each dependency with a short timeout; 503 names the ones down.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	var down []string
	for name, p := range s.Ready {
		if err := p.Ping(ctx); err != nil {
			checks[name] = "unreachable"
			down = append(down, name)
			s.Logger.Warn("readiness check failed", "dependency", name, "error", err)
		} else {
			checks[name] = "ok"
		}
	}
	sort.Strings(down)
	if len(down) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks, "down": down})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "checks": checks})
}
