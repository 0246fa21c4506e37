package api

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestUnavailableLogsOnlyACause: a 503 is logged for the operator only
// when a cause stands behind the caller's message, never for a bare one.
func TestUnavailableLogsOnlyACause(t *testing.T) {
	var logs bytes.Buffer
	handle := errorHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	e := echo.New()
	for _, tc := range []struct {
		name   string
		err    error
		logged bool
	}{
		{"bare", dsr.Errorf(dsr.EUNAVAILABLE, "the state store is not reachable"), false},
		{"with a cause", dsr.Errorf(dsr.EUNAVAILABLE, "the package cannot be read").Because(errors.New("bucket closed")), true},
	} {
		logs.Reset()
		rec := httptest.NewRecorder()
		handle(tc.err, e.NewContext(httptest.NewRequest(http.MethodGet, "/v1/requests", nil), rec))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d, want 503", tc.name, rec.Code)
		}
		if got := strings.Contains(logs.String(), "unavailable"); got != tc.logged {
			t.Errorf("%s: logged %v, want %v:\n%s", tc.name, got, tc.logged, logs.String())
		}
	}
}
