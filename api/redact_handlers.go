package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/redact"
)

// Bounds of a POST /v1/redact body besides its 64 KiB.
const (
	maxKnown    = 50
	maxKnownLen = 200
)

type redactBody struct {
	Text   string   `json:"text"`
	Tenant string   `json:"tenant"`
	Known  []string `json:"known"`
}

type spanJSON struct {
	Kind  redact.Kind `json:"kind"`
	Start int         `json:"start"` // byte offset in the text sent
	End   int         `json:"end"`
	Token string      `json:"token"`
}

type redactJSON struct {
	Tenant string     `json:"tenant"`
	Text   string     `json:"text"`
	Spans  []spanJSON `json:"spans"`
}

// redact is POST /v1/redact: the text with each e-mail address, phone
// number, IBAN, card number, IP address, URL credential and known identity
// replaced by the tenant's stable pseudonym, and the spans found (byte
// offsets in the text sent). A tenant key redacts for its own tenant (the
// body's tenant may be omitted); the admin names the tenant. Nothing of the
// text is logged or stored.
func (s *Server) redact(c echo.Context) error {
	var body redactBody
	if err := decode(c, &body); err != nil {
		return err
	}
	cl := caller(c)
	tenant := strings.TrimSpace(body.Tenant)
	if tenant == "" {
		tenant = cl.Tenant
	}
	if tenant == "" {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "tenant: required with the admin token; pseudonyms are keyed per tenant")
	}
	if err := dsr.ValidateTenant(tenant); err != nil {
		return err
	}
	if !cl.CanSee(tenant) {
		return dsr.Errorf(dsr.EFORBIDDEN, "a tenant key may redact for its own tenant only")
	}
	if err := s.knownField(c.Request().Context(), tenant); err != nil {
		return err
	}
	if len(body.Known) > maxKnown {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "known: at most %d identities", maxKnown)
	}
	for i, k := range body.Known {
		if len(k) > maxKnownLen {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "known.%d: at most %d bytes", i, maxKnownLen)
		}
	}
	if s.Redactors == nil {
		return dsr.Errorf(dsr.EUNAVAILABLE, "redaction is not configured: set LETHE_SUBJECT_KEY")
	}
	text, spans := s.Redactors.For(tenant).Redact(body.Text, body.Known...)
	out := redactJSON{Tenant: tenant, Text: text, Spans: make([]spanJSON, len(spans))}
	for i, sp := range spans {
		out.Spans[i] = spanJSON{Kind: sp.Kind, Start: sp.Start, End: sp.End, Token: sp.Token}
		if s.redactSpans != nil {
			s.redactSpans.WithLabelValues(string(sp.Kind)).Inc()
		}
	}
	return c.JSON(http.StatusOK, out)
}
