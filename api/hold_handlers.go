package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

type createHoldBody struct {
	Tenant string `json:"tenant"`
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// createHold is POST /v1/holds (admin): a legal hold on a tenant, a person
// (by email), or a person within a tenant. The answer names the person by
// subject hash only.
func (s *Server) createHold(c echo.Context) error {
	var body createHoldBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := s.knownField(c.Request().Context(), body.Tenant); err != nil {
		return err
	}
	if s.Holds == nil {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "legal holds are not configured on this server")
	}
	h, err := retention.NewHold{Tenant: body.Tenant, Email: body.Email, Reason: body.Reason}.Check(s.Subject)
	if err != nil {
		return err
	}
	if h, err = s.Holds.CreateHold(c.Request().Context(), caller(c).Actor(), h); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/holds/"+h.ID)
	return c.JSON(http.StatusCreated, h)
}

// releaseHold is DELETE /v1/holds/{id} (admin): the hold ends, its email is
// forgotten, and the record stays for the audit.
func (s *Server) releaseHold(c echo.Context) error {
	if s.Holds == nil {
		return dsr.Errorf(dsr.ENOTFOUND, "hold %s not found", c.Param("id"))
	}
	h, err := s.Holds.ReleaseHold(c.Request().Context(), caller(c).Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

type holdListJSON struct {
	Items      []*retention.Hold `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// listHolds is GET /v1/holds (admin); active=true lists only active holds.
func (s *Server) listHolds(c echo.Context) error {
	active := false
	switch c.QueryParam("active") {
	case "", "false":
	case "true":
		active = true
	default:
		return dsr.Errorf(dsr.EINVALID, "active: use true or false")
	}
	out := holdListJSON{Items: []*retention.Hold{}}
	if s.Holds == nil {
		return c.JSON(http.StatusOK, out)
	}
	holds, err := s.Holds.Holds(c.Request().Context(), active)
	if err != nil {
		return err
	}
	out.Items = append(out.Items, holds...)
	return c.JSON(http.StatusOK, out)
}
