package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// statusOf maps dsr error codes to HTTP statuses.
var statusOf = map[string]int{
	dsr.EINVALID:       http.StatusBadRequest,
	dsr.EUNAUTHORIZED:  http.StatusUnauthorized,
	dsr.EFORBIDDEN:     http.StatusForbidden,
	dsr.ENOTFOUND:      http.StatusNotFound,
	dsr.ECONFLICT:      http.StatusConflict,
	dsr.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	dsr.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	dsr.ERATELIMITED:   http.StatusTooManyRequests,
	dsr.EINTERNAL:      http.StatusInternalServerError,
	dsr.EUNAVAILABLE:   http.StatusServiceUnavailable,
	dsr.EGONE:          http.StatusGone,
}

// codeOf maps statuses that echo itself produces back to codes.
var codeOf = map[int]string{
	http.StatusBadRequest:            dsr.EINVALID,
	http.StatusUnauthorized:          dsr.EUNAUTHORIZED,
	http.StatusForbidden:             dsr.EFORBIDDEN,
	http.StatusNotFound:              dsr.ENOTFOUND,
	http.StatusMethodNotAllowed:      dsr.EINVALID,
	http.StatusRequestEntityTooLarge: dsr.ETOOLARGE,
	http.StatusUnsupportedMediaType:  dsr.EINVALID,
	http.StatusTooManyRequests:       dsr.ERATELIMITED,
}

type errorBody struct {
	Error *dsr.Error `json:"error"`
}

// errorHandler writes every error in the one shape. Internal errors are
// logged with their detail and shown only as "internal error".
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		e := &dsr.Error{Code: dsr.ErrorCode(err), Message: dsr.ErrorMessage(err)}
		status := statusOf[e.Code]
		if errors.As(err, &he) {
			status = he.Code
			e.Code = codeOf[he.Code]
			if e.Code == "" {
				e.Code = dsr.EINTERNAL
			}
			e.Message = http.StatusText(he.Code)
			switch he.Code {
			case http.StatusRequestEntityTooLarge:
				e.Message = "body: larger than the 64 KiB limit"
			case http.StatusMethodNotAllowed:
				// echo has set Allow to the methods the path takes.
				e.Message = fmt.Sprintf("method %s: this path takes %s (see the Allow header)",
					strconv.Quote(c.Request().Method), c.Response().Header().Get(echo.HeaderAllow))
			}
		}
		if status == 0 || status == http.StatusInternalServerError {
			status = http.StatusInternalServerError
			log.Error("internal error", "method", c.Request().Method, "route", c.Path(), "error", err)
		} else if _, bare := err.(*dsr.Error); status == http.StatusServiceUnavailable && !bare {
			// The cause behind the caller's message (an export key's
			// fingerprint, a store's error) is for the operator.
			log.Warn("unavailable", "method", c.Request().Method, "route", c.Path(), "error", err)
		}
		var limited *dsr.RateLimitError
		if errors.As(err, &limited) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Round(time.Second)/time.Second)))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, errorBody{e})
	}
}
