package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
)

// errNoTenants answers where a server was built without Tenants: every
// tenant is then refused rather than accepted unchecked.
var errNoTenants = dsr.Errorf(dsr.EUNAVAILABLE, "tenants: this server keeps no studios (no tenant store is configured)")

// known refuses a tenant nobody registered with ENOTFOUND: the tenant of a
// path or a query. An empty slug (no tenant) is left to the route.
func (s *Server) known(ctx context.Context, slug string) error {
	if slug == "" {
		return nil
	}
	if s.Tenants == nil {
		return errNoTenants
	}
	return s.Tenants.Known(ctx, slug)
}

// knownField is known for a tenant named in a request body: a slug nobody
// registered is EUNPROCESSABLE (422), since the URL itself was found.
func (s *Server) knownField(ctx context.Context, slug string) error {
	if slug != "" {
		if err := dsr.ValidateTenant(slug); err != nil {
			return err
		}
	}
	err := s.known(ctx, slug)
	if dsr.ErrorCode(err) == dsr.ENOTFOUND {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "%s", dsr.ErrorMessage(err))
	}
	return err
}

// tenantBody is the body of POST /v1/tenants and PUT /v1/tenants/{tenant}.
// A GET answer may be sent back: created_at and updated_at are ignored,
// and slug must be the path's.
type tenantBody struct {
	Slug           *string         `json:"slug"`
	DisplayName    *string         `json:"display_name"`
	LegalName      *string         `json:"legal_name"`
	PrivacyContact *string         `json:"privacy_contact"`
	OwnerEmails    *[]string       `json:"owner_emails"`
	BrandColor     *string         `json:"brand_color"`
	Language       *string         `json:"language"`
	CreatedAt      json.RawMessage `json:"created_at"`
	UpdatedAt      json.RawMessage `json:"updated_at"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// createTenant is POST /v1/tenants (admin): 201 with the registered studio.
func (s *Server) createTenant(c echo.Context) error {
	var body tenantBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if s.Tenants == nil {
		return errNoTenants
	}
	t, err := s.Tenants.Create(c.Request().Context(), caller(c).Actor(), &dsr.Tenant{Slug: deref(body.Slug),
		DisplayName: deref(body.DisplayName), LegalName: deref(body.LegalName), PrivacyContact: deref(body.PrivacyContact),
		OwnerEmails: deref(body.OwnerEmails), BrandColor: deref(body.BrandColor), Language: deref(body.Language)})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/tenants/"+t.Slug)
	return c.JSON(http.StatusCreated, t)
}

type tenantListJSON struct {
	Items      []*dsr.Tenant `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// listTenants is GET /v1/tenants (admin), by slug, with cursor pagination.
func (s *Server) listTenants(c echo.Context) error {
	limit := 0
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return dsr.Errorf(dsr.EINVALID, "limit: a whole number from 1 to 200")
		}
		limit = n
	}
	if s.Tenants == nil {
		return errNoTenants
	}
	page, err := s.Tenants.List(c.Request().Context(), c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	out := tenantListJSON{Items: page.Items}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}

// getTenant is GET /v1/tenants/{tenant}: the admin, or that tenant's key.
func (s *Server) getTenant(c echo.Context) error {
	slug, err := s.ownTenant(c)
	if err != nil {
		return err
	}
	t, err := s.Tenants.Get(c.Request().Context(), slug)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// putTenant is PUT /v1/tenants/{tenant}: it sets the fields given and
// keeps the others. The slug never changes. The admin may change every
// other field; the tenant's own key changes the profile (display_name,
// legal_name, privacy_contact, brand_color, language) but not owner_emails, which
// decide who owns the studio: that is 403.
func (s *Server) putTenant(c echo.Context) error {
	slug, err := s.ownTenant(c)
	if err != nil {
		return err
	}
	var body tenantBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Slug != nil && *body.Slug != slug {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "slug: a tenant's slug never changes; leave it out or send %s", slug)
	}
	cl := caller(c)
	if body.OwnerEmails != nil && !cl.Admin {
		cur, err := s.Tenants.Get(c.Request().Context(), slug)
		if err != nil {
			return err
		}
		// The document GET returned may come back unchanged.
		if !sameOwners(cur.OwnerEmails, *body.OwnerEmails) {
			return dsr.Errorf(dsr.EFORBIDDEN, "owner_emails: only the admin changes a studio's owners; leave it out")
		}
		body.OwnerEmails = nil
	}
	t, err := s.Tenants.Update(c.Request().Context(), cl.Actor(), slug, dsr.TenantProfile{DisplayName: body.DisplayName,
		LegalName: body.LegalName, PrivacyContact: body.PrivacyContact, BrandColor: body.BrandColor, Language: body.Language, OwnerEmails: body.OwnerEmails})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// sameOwners reports whether the addresses sent are the stored ones, as
// Validate folds them.
func sameOwners(stored, sent []string) bool {
	if len(stored) != len(sent) {
		return false
	}
	for i := range sent {
		if dsr.FoldEmail(strings.TrimSpace(sent[i])) != stored[i] {
			return false
		}
	}
	return true
}
