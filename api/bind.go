package api

import (
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
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
	case errors.As(err, &typ) && typ.Field == "":
		return dsr.Errorf(dsr.EINVALID, "body: a JSON object is required, not %s", jsonArticle(typ.Value))
	case errors.As(err, &typ):
		return dsr.Errorf(dsr.EINVALID, "body: field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), jsonArticle(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return dsr.Errorf(dsr.EINVALID, "body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return dsr.Errorf(dsr.EINVALID, "body: malformed JSON")
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// jsonKind names the JSON a Go type decodes from, so that an error never
// shows a Go type's name (such as dsr.Type) to a client.
func jsonKind(t reflect.Type) string {
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string" // such as time.Time
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// jsonArticle turns the JSON kind encoding/json reports ("string",
// "number 3", "array") into words: "a string", "a number", "an array".
func jsonArticle(value string) string {
	kind, _, _ := strings.Cut(value, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "true or false"
	case "":
		return "this value"
	}
	return "a " + kind
}
