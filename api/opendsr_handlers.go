package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
)

// odsrRoutes mounts OpenDSR 2.0 under /opendsr/v2 and its OpenGDPR 1.0
// names (§10.1: /opengdpr_requests, X-OpenGDPR-* headers). Discovery, the
// certificate and results links take no token: controllers verify
// callbacks through the first two (§8.8), and a results link is its own
// proof. Filing and following requests takes a tenant key (the request is
// that tenant's) or the admin token.
func (s *Server) odsrRoutes(e *echo.Echo) {
	// Route middleware, not groups: a group's middleware makes echo
	// register a catch-all that answers a wrong method 404 instead of 405.
	e.GET("/opendsr/v2/discovery", s.odsrDiscovery(false), s.odsrErrors, s.odsrOn)
	e.GET("/discovery", s.odsrDiscovery(true), s.odsrErrors, s.odsrOn)
	e.GET(opendsr.CertificatePath, s.odsrCertificate, s.odsrErrors, s.odsrOn)
	e.GET(opendsr.ResultsPath+":id", s.odsrResults, s.odsrErrors, s.odsrOn)
	auth := []echo.MiddlewareFunc{s.odsrErrors, s.odsrOn, s.authenticate}
	for _, r := range []struct {
		prefix string
		legacy bool
	}{{"/opendsr/v2/requests", false}, {"/opengdpr_requests", true}} {
		e.POST(r.prefix, s.odsrCreate(r.legacy), auth...)
		e.GET(r.prefix+"/:id", s.odsrStatus(r.legacy), auth...)
		e.DELETE(r.prefix+"/:id", s.odsrCancel(r.legacy), auth...)
	}
}

func (s *Server) odsrDiscovery(legacy bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, s.OpenDSR.Discovery(legacy))
	}
}

// odsrCertificate serves the PEM certificate whose key signs responses and
// callbacks (§6.3 processor_certificate).
func (s *Server) odsrCertificate(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/x-pem-file", s.OpenDSR.Signer.CertPEM)
}

func (s *Server) odsrCreate(legacy bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
			return dsr.Errorf(dsr.EINVALID, "send JSON with Content-Type: application/json")
		}
		raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return dsr.Errorf(dsr.ETOOLARGE, "the body is larger than the 64 KiB limit")
		} else if err != nil {
			return dsr.Errorf(dsr.EINVALID, "the body could not be read")
		}
		out, err := s.OpenDSR.Create(c.Request().Context(), caller(c), raw, legacy)
		if err != nil {
			return err
		}
		return s.odsrSigned(c, http.StatusCreated, legacy, out, &out.ProcessorSignature)
	}
}

func (s *Server) odsrStatus(legacy bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		out, err := s.OpenDSR.Status(c.Request().Context(), caller(c), c.Param("id"))
		if err != nil {
			return err
		}
		return s.odsrSigned(c, http.StatusOK, legacy, out, nil)
	}
}

func (s *Server) odsrCancel(legacy bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		out, err := s.OpenDSR.Cancel(c.Request().Context(), caller(c), c.Param("id"))
		if err != nil {
			return err
		}
		return s.odsrSigned(c, http.StatusAccepted, legacy, out, &out.ProcessorSignature)
	}
}

// odsrSigned writes v signed: the X-OpenDSR-Signature (or X-OpenGDPR-
// Signature) header signs the raw body as sent. Where the body has a
// processor_signature (§7.3, §9.2), that field signs the body as it
// reads without it: a body cannot contain its own signature.
func (s *Server) odsrSigned(c echo.Context, status int, legacy bool, v any, bodySig *string) error {
	if bodySig != nil {
		inner, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if *bodySig, err = s.OpenDSR.Signer.Sign(inner); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sig, err := s.OpenDSR.Signer.Sign(raw)
	if err != nil {
		return err
	}
	domainH, sigH := opendsr.Headers(legacy)
	h := c.Response().Header()
	h.Set(domainH, s.OpenDSR.Domain())
	h.Set(sigH, sig)
	h.Set("Cache-Control", "no-store")
	return c.Blob(status, echo.MIMEApplicationJSON, raw)
}

// odsrResults streams the access package behind a results link: 404 for a
// link never issued, 410 once expired, 409 when the package is gone.
func (s *Server) odsrResults(c echo.Context) error {
	if s.Exports == nil {
		return dsr.Errorf(dsr.ECONFLICT, "access packages are not configured: start lethe with LETHE_EXPORT_KEY")
	}
	ctx := c.Request().Context()
	id, err := s.OpenDSR.Results(ctx, c.Param("id"), c.QueryParam("expires"), c.QueryParam("sig"))
	if err != nil {
		return err
	}
	rec, body, err := s.Exports.Open(ctx, dsr.Caller{Admin: true}, id)
	if err != nil {
		return err
	}
	return s.streamPackage(c, rec, body, "results-"+c.Param("id")+".zip")
}
