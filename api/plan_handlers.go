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
	// NormalizeIdentities normalises identities by type by the registry's
	// rules; EUNPROCESSABLE for none, an unknown type or a bad value.
	NormalizeIdentities(ids map[string]string) (map[string]string, error)
	// PlanIdentities counts per collection the rows an erasure of the
	// person named by ids (within tenant when set) would touch, changing
	// nothing.
	PlanIdentities(ctx context.Context, ids map[string]string, tenant string) (*engine.Plan, error)
}

type planBody struct {
	Email  string `json:"email"`
	Tenant string `json:"tenant"`
	// Identities names the person by other identities, such as
	// {"phone": "+44 7700 900123"}.
	Identities map[string]string `json:"identities"`
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
	ids, err := requestIdentities(body.Email, body.Identities)
	if err != nil {
		return err
	}
	if ids, err = s.Planner.NormalizeIdentities(ids); err != nil {
		return err
	}
	p, err := s.Planner.PlanIdentities(c.Request().Context(), ids, body.Tenant)
	if err != nil {
		return err
	}
	if _, err := s.Audit.Append(c.Request().Context(), dsr.AuditEvent{Actor: cl.Actor(), Action: "plan.run",
		Tenant: body.Tenant, Subject: s.Subject.SubjectOf(ids), Details: map[string]any{"total": p.Total}}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// requestIdentities merges a body's email and identities; an email given
// twice must be the same. EUNPROCESSABLE otherwise.
func requestIdentities(email string, ids map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range ids {
		out[k] = v
	}
	if email != "" {
		if e, ok := out["email"]; ok && e != email {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "identities.email: differs from email; give one")
		}
		out["email"] = email
	}
	if len(out) == 0 {
		out["email"] = "" // the error names the email, the usual identity
	}
	return out, nil
}
