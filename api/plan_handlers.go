package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// Planner answers dry runs: what an erasure would touch.
type Planner interface {
	// Plan counts per collection the rows an erasure of email (within tenant
	// when set) would touch, changing nothing.
	Plan(ctx context.Context, email, tenant string) (*engine.Plan, error)
}

type planBody struct {
	Email  string `json:"email"`
	Tenant string `json:"tenant"`
}

// plan is POST /v1/plan. A tenant key plans within its own tenant only. The
// dry run is audited: it reveals what is held about a person.
func (s *Server) plan(c echo.Context) error {
	var body planBody
	if err := decode(c, &body); err != nil {
		return err
	}
	cl := caller(c)
	if !cl.Admin {
		if body.Tenant != "" && body.Tenant != cl.Tenant {
			return dsr.Errorf(dsr.EFORBIDDEN, "tenant: a tenant key may plan for its own tenant only")
		}
		body.Tenant = cl.Tenant
	}
	if err := s.knownField(c.Request().Context(), body.Tenant); err != nil {
		return err
	}
	if s.Planner == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	email, err := dsr.NormalizeEmail(body.Email)
	if err != nil {
		return err
	}
	p, err := s.Planner.Plan(c.Request().Context(), email, body.Tenant)
	if err != nil {
		return err
	}
	if _, err := s.Audit.Append(c.Request().Context(), dsr.AuditEvent{Actor: cl.Actor(), Action: "plan.run",
		Tenant: body.Tenant, Subject: s.Subject.Subject(email), Details: map[string]any{"total": p.Total}}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
