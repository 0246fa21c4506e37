package api

import (
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// selfRequestJSON is what an end user sees of their own request: no
// subject hash, no counts of other people's concern.
type selfRequestJSON struct {
	ID        string     `json:"id"`
	Type      dsr.Type   `json:"type"`
	Status    dsr.Status `json:"status"`
	Tenant    string     `json:"tenant"`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     time.Time  `json:"due_at"`
}

type selfVerifyBody struct {
	Code string `json:"code"`
}

// proxyTruster is what a SelfService (selfservice.Service) may tell of the
// reverse proxies in front of Lethe (LETHE_TRUSTED_PROXIES).
type proxyTruster interface {
	TrustedProxies() []*net.IPNet
}

// clientIP is the address the per-IP limits count. Without trusted
// proxies it is the connection's address and X-Forwarded-For is ignored: a
// client could name any address in it and escape the limits. With them, a
// connection from a trusted proxy is believed about the client it forwards
// (the rightmost untrusted X-Forwarded-For entry); nothing else is trusted,
// not even loopback or private networks.
func (s *Server) clientIP(c echo.Context) string {
	var trusted []*net.IPNet
	if p, ok := s.Self.(proxyTruster); ok {
		trusted = p.TrustedProxies()
	}
	return ClientIP(trusted)(c.Request())
}

// ClientIP returns how a request's client address is found behind the
// trusted proxies (none: the connection's address), for the limits of
// self-service and of the console's sign-in.
func ClientIP(trusted []*net.IPNet) func(*http.Request) string {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := make([]echo.TrustOption, 0, len(trusted)+3)
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// selfService answers 503 on the self-service routes when it is not wired.
func (s *Server) selfService() (dsr.SelfService, error) {
	if s.Self == nil {
		return nil, dsr.Errorf(dsr.EUNAVAILABLE, "self-service is not configured on this server")
	}
	return s.Self, nil
}

// createSelfRequest answers 202 with the same body shape whether the email
// is known or not: the request is created and a code sent either way.
func (s *Server) createSelfRequest(c echo.Context) error {
	self, err := s.selfService()
	if err != nil {
		return err
	}
	var body createRequestBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := s.knownField(c.Request().Context(), body.Tenant); err != nil {
		return err
	}
	// The mails speak the language the client's Accept-Language asks for.
	t, err := self.Ask(c.Request().Context(), dsr.SelfAsk{Type: body.Type, Email: body.Email, Tenant: body.Tenant,
		IP: s.clientIP(c), Language: c.Request().Header.Get("Accept-Language")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, t)
}

// verifySelfRequest checks the emailed code: 200 with the request, now
// pending and queued, or awaiting_approval when the review gate holds it.
func (s *Server) verifySelfRequest(c echo.Context) error {
	self, err := s.selfService()
	if err != nil {
		return err
	}
	var body selfVerifyBody
	if err := decode(c, &body); err != nil {
		return err
	}
	r, err := self.Verify(c.Request().Context(), c.Param("id"), body.Code, s.clientIP(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, selfRequestJSON{ID: r.ID, Type: r.Type, Status: r.Status, Tenant: r.Tenant,
		CreatedAt: r.CreatedAt, DueAt: r.DueAt})
}

// getSelfExport streams the decrypted package that an emailed link's
// token stands for: 404 for a token never issued, 410 once expired.
func (s *Server) getSelfExport(c echo.Context) error {
	self, err := s.selfService()
	if err != nil {
		return err
	}
	rec, body, err := self.Download(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	return s.streamPackage(c, rec, body, "my-data-"+rec.RequestID+".zip")
}
