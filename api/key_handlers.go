package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// createKey issues a tenant key; the token is in this answer and nowhere else.
func (s *Server) createKey(c echo.Context) error {
	if _, err := s.ownTenant(c); err != nil {
		return err
	}
	k, err := s.Keys.Create(c.Request().Context(), caller(c).Actor(), c.Param("tenant"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

func (s *Server) revokeKey(c echo.Context) error {
	if _, err := s.ownTenant(c); err != nil {
		return err
	}
	if err := s.Keys.Revoke(c.Request().Context(), caller(c).Actor(), c.Param("tenant"), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// rotateKeyBody is the body of POST /v1/tenants/:tenant/keys/:id/rotate.
type rotateKeyBody struct {
	// OldValidUntil is when the key rotated stops working (RFC 3339).
	OldValidUntil string `json:"old_valid_until"`
}

// rotateKey issues a replacement of a tenant key and keeps the old one
// working until old_valid_until; the new token is in this answer only.
func (s *Server) rotateKey(c echo.Context) error {
	if _, err := s.ownTenant(c); err != nil {
		return err
	}
	var body rotateKeyBody
	if err := decode(c, &body); err != nil {
		return err
	}
	until, err := time.Parse(time.RFC3339, body.OldValidUntil)
	if err != nil {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "old_valid_until: required, an RFC 3339 time such as 2026-12-01T00:00:00Z, when the old key stops working")
	}
	k, err := s.Keys.Rotate(c.Request().Context(), caller(c).Actor(), c.Param("tenant"), c.Param("id"), until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}
