package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

const callerKey = "lethe.caller"

// authenticate resolves the bearer token into a dsr.Caller: the admin token
// or one it replaced that is still listed (compared in constant time), or
// a live tenant key. Anything else is 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The scheme is case-insensitive (RFC 9110 11.1): "bearer" is Bearer.
		scheme, token, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return dsr.Errorf(dsr.EUNAUTHORIZED, "send Authorization: Bearer <token> with the admin token or a tenant key")
		}
		if s.AdminToken != "" && dsr.TokenIn(token, append([]string{s.AdminToken}, s.AdminTokenPrevious...)...) {
			c.Set(callerKey, dsr.Caller{Admin: true})
			return next(c)
		}
		key, err := s.Keys.Authenticate(c.Request().Context(), token)
		if err != nil {
			return err
		}
		c.Set(callerKey, dsr.Caller{Tenant: key.Tenant, KeyID: key.ID})
		return next(c)
	}
}

// adminOnly refuses tenant keys with 403.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !caller(c).Admin {
			return dsr.Errorf(dsr.EFORBIDDEN, "this route needs the admin token")
		}
		return next(c)
	}
}

func caller(c echo.Context) dsr.Caller {
	cl, _ := c.Get(callerKey).(dsr.Caller)
	return cl
}
