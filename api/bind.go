package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// maxBody is the largest JSON body the API reads.
const maxBody = 64 << 10

// decode reads one JSON object into v: unknown fields, trailing data, a
// non-JSON content type or a body over 64 KiB are errors that say which.
func decode(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return dsr.Errorf(dsr.EINVALID, "body: send JSON with Content-Type: application/json")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return dsr.Errorf(dsr.EINVALID, "body: one JSON object expected; found more after it")
	}
	return nil
}

func decodeError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return dsr.Errorf(dsr.ETOOLARGE, "body: larger than the 64 KiB limit")
	case errors.Is(err, io.EOF):
		return dsr.Errorf(dsr.EINVALID, "body: a JSON object is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return dsr.Errorf(dsr.EINVALID, "body: malformed JSON")
	case errors.As(err, &typ):
		return dsr.Errorf(dsr.EINVALID, "body: field %q must be a %s", typ.Field, typ.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return dsr.Errorf(dsr.EINVALID, "body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return dsr.Errorf(dsr.EINVALID, "body: malformed JSON")
}
