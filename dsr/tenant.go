package dsr

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Tenant is a registered studio: the controller of the personal data its
// requests are about. Only a registered slug is accepted anywhere a tenant
// is named; the slug never changes once registered.
type Tenant struct {
	Slug        string `json:"slug"`
	DisplayName string `json:"display_name"`
	// LegalName is the controller's legal name, as the privacy page and
	// the closing notices name it.
	LegalName string `json:"legal_name"`
	// PrivacyContact is the address people write to about their data.
	PrivacyContact string   `json:"privacy_contact"`
	OwnerEmails    []string `json:"owner_emails"`
	// BrandColor is "#rrggbb" or "" for Lethe's own colours.
	BrandColor string `json:"brand_color"`
	// Language is the tag of the language the studio speaks to people
	// when their browser asks for none Lethe has ("de"), "" for English.
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TenantProfile is what a tenant's own key may change: every field but
// the slug and the owners, who decide who the studio's owners are.
type TenantProfile struct {
	DisplayName    *string
	LegalName      *string
	PrivacyContact *string
	BrandColor     *string
	Language       *string
	// OwnerEmails is for the admin only (see TenantService.Update).
	OwnerEmails *[]string
}

// TenantPage is one page of a tenant listing; NextCursor is "" on the last.
type TenantPage struct {
	Items      []*Tenant
	NextCursor string
}

// TenantService registers studios and answers whether a slug is one.
type TenantService interface {
	// Create registers t. EUNPROCESSABLE for an invalid field, ECONFLICT
	// for a slug already registered.
	Create(ctx context.Context, actor string, t *Tenant) (*Tenant, error)
	// Get returns the tenant of slug, or ENOTFOUND.
	Get(ctx context.Context, slug string) (*Tenant, error)
	// List returns tenants by slug, limit per page (1-200, default 50);
	// EINVALID for a tampered cursor.
	List(ctx context.Context, cursor string, limit int) (*TenantPage, error)
	// Update applies the fields of p that are set; ENOTFOUND for an
	// unknown slug, EUNPROCESSABLE for an invalid field.
	Update(ctx context.Context, actor, slug string, p TenantProfile) (*Tenant, error)
	// Known returns nil for a registered slug and ENOTFOUND, naming the
	// slug and how to register it, for any other.
	Known(ctx context.Context, slug string) error
}

var (
	brandColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	languageRE   = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// Validate checks every field of t and returns EUNPROCESSABLE naming the
// first bad one. Owner emails are folded to lower case.
func (t *Tenant) Validate() error {
	if err := ValidateTenant(t.Slug); err != nil {
		return Errorf(EUNPROCESSABLE, "slug: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	t.DisplayName, t.LegalName = strings.TrimSpace(t.DisplayName), strings.TrimSpace(t.LegalName)
	t.PrivacyContact = strings.TrimSpace(t.PrivacyContact)
	switch {
	case t.DisplayName == "" || len(t.DisplayName) > 200:
		return Errorf(EUNPROCESSABLE, "display_name: required, at most 200 characters")
	case len(t.LegalName) > 200:
		return Errorf(EUNPROCESSABLE, "legal_name: at most 200 characters")
	case t.BrandColor != "" && !brandColorRE.MatchString(t.BrandColor):
		return Errorf(EUNPROCESSABLE, `brand_color: a colour as "#rrggbb", or "" for none`)
	case t.Language != "" && !languageRE.MatchString(t.Language):
		return Errorf(EUNPROCESSABLE, `language: a language tag such as "en" or "de", or "" for English`)
	case len(t.OwnerEmails) > 20:
		return Errorf(EUNPROCESSABLE, "owner_emails: at most 20 addresses")
	}
	if t.PrivacyContact != "" {
		c, err := NormalizeEmail(t.PrivacyContact)
		if err != nil {
			return Errorf(EUNPROCESSABLE, "privacy_contact: a plain address such as privacy@example.com, or \"\" for none")
		}
		t.PrivacyContact = c
	}
	if t.OwnerEmails == nil {
		t.OwnerEmails = []string{}
	}
	for i, e := range t.OwnerEmails {
		n, err := NormalizeEmail(e)
		if err != nil {
			return Errorf(EUNPROCESSABLE, "owner_emails[%d]: a plain address such as owner@example.com", i)
		}
		t.OwnerEmails[i] = FoldEmail(n)
	}
	return nil
}
