package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// ownTenant returns the tenant of the path after checking that the caller
// is the admin or a key of that tenant (403 otherwise).
func ownTenant(c echo.Context) (string, error) {
	t := c.Param("tenant")
	if err := dsr.ValidateTenant(t); err != nil {
		return "", err
	}
	if !caller(c).CanSee(t) {
		return "", dsr.Errorf(dsr.EFORBIDDEN, "a tenant key may act on its own tenant only")
	}
	return t, nil
}

func (s *Server) getSettings(c echo.Context) error {
	t, err := ownTenant(c)
	if err != nil {
		return err
	}
	if s.Settings == nil {
		return c.JSON(http.StatusOK, retention.Settings{Tenant: t, Retention: map[string]string{}})
	}
	st, err := s.Settings.Settings(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

type settingsBody struct {
	Retention map[string]string `json:"retention"`
}

// putSettings is PUT /v1/tenants/{tenant}/settings: it replaces the
// tenant's retention overrides. A window longer than the registry's, or a
// collection the registry does not know, is 422.
func (s *Server) putSettings(c echo.Context) error {
	t, err := ownTenant(c)
	if err != nil {
		return err
	}
	var body settingsBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if s.Registry == nil || s.Settings == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	overrides, err := retention.CheckOverrides(s.Registry, body.Retention)
	if err != nil {
		return err
	}
	st, err := s.Settings.PutSettings(c.Request().Context(), caller(c).Actor(), &retention.Settings{Tenant: t, Retention: overrides})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

type policyJSON struct {
	Tenant      string           `json:"tenant"`
	Collections []retention.Rule `json:"collections"`
	Schedule    string           `json:"schedule"`
	LastRun     lastRunJSON      `json:"last_run"`
}

// getPolicy is GET /v1/tenants/{tenant}/policy: what the application may
// store for the tenant and for how long, the tenant's overrides applied.
func (s *Server) getPolicy(c echo.Context) error {
	t, err := ownTenant(c)
	if err != nil {
		return err
	}
	if s.Registry == nil || s.Settings == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	st, err := s.Settings.Settings(c.Request().Context(), t)
	if err != nil {
		return err
	}
	out := policyJSON{Tenant: t, Collections: retention.Rules(s.Registry, st.Retention), Schedule: s.Registry.Schedule.Cron}
	if out.Schedule == "" {
		out.Schedule = retention.DefaultSchedule
	}
	if s.LastSweep != nil {
		if out.LastRun.At, err = s.LastSweep(c.Request().Context()); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}
