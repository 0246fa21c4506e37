package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
)

// odsrDomains names, for each Lethe error code, the domain and reason of
// the error detail (§7.6), which the specification leaves to the processor.
var odsrDomains = map[string][2]string{
	dsr.EINVALID:       {"Validation", "IllegalArgumentException"},
	dsr.EUNPROCESSABLE: {"Validation", "IllegalArgumentException"},
	dsr.ETOOLARGE:      {"Validation", "RequestTooLarge"},
	dsr.EUNAUTHORIZED:  {"Authentication", "Unauthorized"},
	dsr.EFORBIDDEN:     {"Authorization", "Forbidden"},
	dsr.ENOTFOUND:      {"Request", "NotFound"},
	dsr.ECONFLICT:      {"Request", "Conflict"},
	dsr.EGONE:          {"Request", "Gone"},
	dsr.ERATELIMITED:   {"Processor", "RateLimited"},
	dsr.EUNAVAILABLE:   {"Processor", "Unavailable"},
	dsr.EINTERNAL:      {"Processor", "InternalError"},
}

// odsrErrors writes the errors of the OpenDSR routes in the shape of §7.5–
// 7.7, with the HTTP status as the integer code. Malformed and refused
// requests are 400 as §7.5 requires (Lethe's 422 included); an unknown id
// is 404, a missing or wrong token 401, an outage 503. Internal errors are
// logged and shown only as "internal error".
func (s *Server) odsrErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil {
			return nil
		}
		var he *echo.HTTPError
		code, msg := dsr.ErrorCode(err), dsr.ErrorMessage(err)
		if errors.As(err, &he) {
			code = codeOf[he.Code]
			msg = http.StatusText(he.Code)
			if code == "" {
				code = dsr.EINTERNAL
			}
		}
		status := statusOf[code]
		switch {
		case code == dsr.EUNPROCESSABLE || code == dsr.ETOOLARGE:
			status = http.StatusBadRequest
		case status == 0 || code == dsr.EINTERNAL:
			status = http.StatusInternalServerError
			s.Logger.Error("internal error", "method", c.Request().Method, "route", c.Path(), "error", err)
		}
		d := odsrDomains[code]
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		return c.JSON(status, opendsr.ErrorBody{Error: opendsr.ErrorObject{Code: status, Message: msg,
			Errors: []opendsr.ErrorDetail{{Domain: d[0], Reason: d[1], Message: msg}}}})
	}
}

// odsrOn answers 503 on the OpenDSR routes while no LETHE_OPENDSR_KEY is
// set: every response and callback must be signed (§8.3, §8.6).
func (s *Server) odsrOn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.OpenDSR == nil {
			return dsr.Errorf(dsr.EUNAVAILABLE, "OpenDSR is off: start lethe with LETHE_OPENDSR_KEY naming a PEM RSA or ECDSA private key")
		}
		return next(c)
	}
}
