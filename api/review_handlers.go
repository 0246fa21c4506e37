package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// approveRequest is POST /v1/requests/{id}/approve: a request waiting in
// awaiting_approval is queued. 409 for any other status; a tenant key
// approves its own studio's requests only (404 for another's).
func (s *Server) approveRequest(c echo.Context) error {
	r, err := s.Requests.Approve(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toJSON(caller(c), r))
}

type denyBody struct {
	Reason string `json:"reason"`
}

// denyRequest is POST /v1/requests/{id}/deny with {"reason": "…"}: the
// request ends denied and the person is told the reason (the closing
// notice of a self-service request; an OpenDSR controller sees it
// cancelled). 422 without a reason, 409 unless it awaits approval.
func (s *Server) denyRequest(c echo.Context) error { return s.endWithReason(c, s.Requests.Deny) }

// endWithReason ends the request of the path's id by end, with the body's
// reason, tells whoever waits for its end, and answers with the request.
func (s *Server) endWithReason(c echo.Context, end func(ctx context.Context, who dsr.Caller, id, reason string) (*dsr.Request, error)) error {
	var body denyBody
	if err := decode(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := end(ctx, caller(c), c.Param("id"), body.Reason)
	if err != nil {
		return err
	}
	dsr.TellEnded(ctx, s.Ended, s.Logger, r)
	return c.JSON(http.StatusOK, s.toJSON(caller(c), r))
}

// reviewJSON is the review gate's part of a request: the plan it was
// filed with and who approved it.
type reviewJSON struct {
	Plan       json.RawMessage `json:"plan"`
	ApprovedBy *string         `json:"approved_by"`
	ApprovedAt *time.Time      `json:"approved_at"`
}

// toReviewJSON shapes rv; nil for a request the gate never held.
func toReviewJSON(rv *dsr.Review) *reviewJSON {
	if rv == nil {
		return nil
	}
	out := &reviewJSON{Plan: rv.Plan, ApprovedAt: rv.ApprovedAt}
	if rv.ApprovedBy != "" {
		out.ApprovedBy = &rv.ApprovedBy
	}
	return out
}
