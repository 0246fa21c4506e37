package api

import (
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

// clientIP is the address the connection comes from. X-Forwarded-For is
// not trusted: a client could name any address in it and escape the
// per-IP limits.
func clientIP(c echo.Context) string { return echo.ExtractIPDirect()(c.Request()) }

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
	t, err := self.Ask(c.Request().Context(), dsr.SelfAsk{Type: body.Type, Email: body.Email, Tenant: body.Tenant, IP: clientIP(c)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, t)
}

// verifySelfRequest checks the emailed code: 200 with the request, now
// pending and queued.
func (s *Server) verifySelfRequest(c echo.Context) error {
	self, err := s.selfService()
	if err != nil {
		return err
	}
	var body selfVerifyBody
	if err := decode(c, &body); err != nil {
		return err
	}
	r, err := self.Verify(c.Request().Context(), c.Param("id"), body.Code, clientIP(c))
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
