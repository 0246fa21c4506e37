package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
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
