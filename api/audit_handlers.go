package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

type auditListJSON struct {
	Items      []*dsr.AuditEntry `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// listAudit pages through the chain; the cursor is the last seq seen.
func (s *Server) listAudit(c echo.Context) error {
	f := dsr.AuditFilter{RequestID: c.QueryParam("request_id"), Tenant: c.QueryParam("tenant"), Limit: 100}
	if cur := c.QueryParam("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n < 0 {
			return dsr.Errorf(dsr.EINVALID, "cursor: not a cursor returned by this service; start again without it")
		}
		f.AfterSeq = n
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return dsr.Errorf(dsr.EINVALID, "limit: a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	items, err := s.Audit.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := auditListJSON{Items: items}
	if out.Items == nil {
		out.Items = []*dsr.AuditEntry{}
	}
	if len(items) == f.Limit {
		next := strconv.FormatInt(items[len(items)-1].Seq, 10)
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// verifyAudit reports the chain's state: ok, or the first broken link.
func (s *Server) verifyAudit(c echo.Context) error {
	v, err := s.Audit.Verify(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
