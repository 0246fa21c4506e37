package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// getExport streams the decrypted access package of a completed access
// request to its tenant's key or the admin: 404 for anyone else (as for a
// request that does not exist), 409 while it is not ready or once expired.
func (s *Server) getExport(c echo.Context) error {
	if s.Exports == nil {
		return dsr.Errorf(dsr.ECONFLICT, "access packages are not configured: start lethe with LETHE_EXPORT_KEY")
	}
	rec, body, err := s.Exports.Open(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.streamPackage(c, rec, body, "lethe-access-"+rec.RequestID+".zip")
}

// streamPackage sends an opened, decrypted package as a ZIP attachment
// named filename and closes body.
func (s *Server) streamPackage(c echo.Context, rec *dsr.Export, body io.ReadCloser, filename string) error {
	defer body.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Lethe-Export-Expires", rec.ExpiresAt.UTC().Format(http.TimeFormat))
	h.Set("Lethe-Export-Entries", strconv.Itoa(rec.Entries))
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), body); err != nil {
		// The status is sent; a broken package shows as a truncated ZIP.
		s.Logger.Error("export stream failed", "request", rec.RequestID, "error", err)
	}
	return nil
}
