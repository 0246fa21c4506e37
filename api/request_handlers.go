package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// requestJSON is the shape scripts read (DESIGN.md): more fields are welcome,
// none are removed. The email is never shown; Subject stands for it.
type requestJSON struct {
	ID              string            `json:"id"`
	Type            dsr.Type          `json:"type"`
	Status          dsr.Status        `json:"status"`
	Tenant          string            `json:"tenant"`
	Subject         dsr.Subject       `json:"subject"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	DueAt           time.Time         `json:"due_at"`
	Overdue         bool              `json:"overdue"`
	ExtendedDays    int               `json:"extended_days"`
	ExtensionReason string            `json:"extension_reason,omitempty"`
	StartedAt       *time.Time        `json:"started_at"`
	FinishedAt      *time.Time        `json:"finished_at"`
	Attempts        int               `json:"attempts"`
	Counts          map[string]int64  `json:"counts"`
	Verification    *dsr.Verification `json:"verification"`
	Error           *dsr.Error        `json:"error"`
	Steps           []dsr.Step        `json:"steps,omitempty"`
	// Source is "opendsr" for a request an OpenDSR controller filed.
	Source string `json:"source,omitempty"`
	// Review is set for a request the review gate held.
	Review *reviewJSON `json:"review,omitempty"`
}

// toJSON shapes r for caller c. A tenant's key is shown the subject as the
// tenant's own view of it (dsr.SubjectHasher.TenantView), the admin the
// subject of the audit trail.
func (s *Server) toJSON(c dsr.Caller, r *dsr.Request) requestJSON {
	counts := r.Counts
	if counts == nil {
		counts = map[string]int64{}
	}
	return requestJSON{
		ID: r.ID, Type: r.Type, Status: r.Status, Tenant: r.Tenant, Subject: s.shownSubject(c, r.Subject),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DueAt: r.DueAt, Overdue: r.Overdue(s.Now()),
		ExtendedDays: r.ExtendedDays, ExtensionReason: r.ExtensionReason, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, Attempts: r.Attempts, Counts: counts, Verification: r.Verification, Error: r.Err,
		Source: r.Source, Review: toReviewJSON(r.Review),
	}
}

type createRequestBody struct {
	Type   dsr.Type `json:"type"`
	Email  string   `json:"email"`
	Tenant string   `json:"tenant"`
	// Identities names the person by other identities, such as
	// {"phone": "+44 7700 900123"} or {"user_id": "42"}.
	Identities map[string]string `json:"identities"`
}

// createRequest answers 202 with a new request, or 202 and
// Idempotent-Replayed: true with the request an earlier call with the same
// Idempotency-Key created (as openapi.json says).
func (s *Server) createRequest(c echo.Context) error {
	var body createRequestBody
	if err := decode(c, &body); err != nil {
		return err
	}
	// A key naming another tenant is refused before the registry is asked,
	// so that it learns nothing of which studios are registered.
	if cl := caller(c); body.Tenant != "" && !cl.Admin && cl.Tenant != "" && !cl.CanSee(body.Tenant) {
		return dsr.Errorf(dsr.EFORBIDDEN, "tenant: a tenant key may file requests for its own tenant only")
	}
	if err := s.knownField(c.Request().Context(), body.Tenant); err != nil {
		return err
	}
	r, created, err := s.Requests.Create(c.Request().Context(), caller(c), dsr.NewRequest{
		Type: body.Type, Email: body.Email, Tenant: body.Tenant, Identities: body.Identities,
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/requests/"+r.ID)
	if !created {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusAccepted, s.toJSON(caller(c), r))
}

func (s *Server) getRequest(c echo.Context) error {
	r, err := s.Requests.Get(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := s.toJSON(caller(c), r)
	if s.Steps != nil {
		if out.Steps, err = s.Steps(c.Request().Context(), r.ID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

type listJSON struct {
	Items      []requestJSON `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (s *Server) listRequests(c echo.Context) error {
	f := dsr.RequestFilter{
		Status: dsr.Status(c.QueryParam("status")), Type: dsr.Type(c.QueryParam("type")),
		Tenant: c.QueryParam("tenant"), Cursor: c.QueryParam("cursor"), Source: c.QueryParam("source"),
	}
	switch c.QueryParam("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return dsr.Errorf(dsr.EINVALID, "overdue: use true or false")
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return dsr.Errorf(dsr.EINVALID, "limit: a whole number from 1 to 200")
		}
		f.Limit = n
	}
	// Another tenant's filter stays an empty page for a key, which so
	// learns nothing of which studios are registered.
	if caller(c).CanSee(f.Tenant) {
		if err := s.known(c.Request().Context(), f.Tenant); err != nil {
			return err
		}
	}
	page, err := s.Requests.List(c.Request().Context(), caller(c), f)
	if err != nil {
		return err
	}
	out := listJSON{Items: make([]requestJSON, 0, len(page.Items))}
	for _, r := range page.Items {
		out.Items = append(out.Items, s.toJSON(caller(c), r))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}

// cancelRequest is POST /v1/requests/{id}/cancel with {"reason": "…"}:
// the request ends cancelled and the person is told the reason, as for a
// denial. 422 without a reason, 409 once it runs or ended.
func (s *Server) cancelRequest(c echo.Context) error { return s.endWithReason(c, s.Requests.Cancel) }

type extendBody struct {
	Days   int    `json:"days"`
	Reason string `json:"reason"`
}

func (s *Server) extendRequest(c echo.Context) error {
	var body extendBody
	if err := decode(c, &body); err != nil {
		return err
	}
	r, err := s.Requests.Extend(c.Request().Context(), caller(c), c.Param("id"), body.Days, body.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toJSON(caller(c), r))
}

// shownSubject is what caller c sees of subject: the audit trail's value
// for the admin, the tenant's own view for a tenant key, nothing when no
// hasher is configured to compute that view.
func (s *Server) shownSubject(c dsr.Caller, subject dsr.Subject) dsr.Subject {
	switch {
	case c.Admin:
		return subject
	case s.Subject == nil:
		return ""
	}
	return s.Subject.TenantView(c.Tenant, subject)
}
