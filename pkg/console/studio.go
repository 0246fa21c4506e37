package console

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // the logo formats accepted
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
)

// Logo limits: a small PNG, JPEG or GIF (no SVG, which can carry script).
const (
	maxLogoBytes = 256 << 10
	maxLogoSide  = 2048
)

var logoTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif"}

func logoKey(slug string) string { return "branding/" + slug + "/logo" }

// studioData is the profile form.
type studioData struct {
	*dsr.Tenant
	Owners  string // one per line, for the admin
	HasLogo bool
}

// studioPage shows the studio's profile to edit, with its logo.
func (c *Console) studioPage(v *Visit) error {
	slug, err := c.studioOf(v)
	if err != nil {
		return err
	}
	t, err := c.Tenants.Get(v.R.Context(), slug)
	if err != nil {
		return err
	}
	return v.Render("studio", t.DisplayName, c.studioData(v, t))
}

func (c *Console) studioData(v *Visit, t *dsr.Tenant) *studioData {
	d := &studioData{Tenant: t, HasLogo: c.hasLogo(v.R.Context(), t.Slug)}
	if v.Who.Admin {
		d.Owners = strings.Join(t.OwnerEmails, "\n")
	}
	return d
}

// saveStudio updates the profile through the tenant service; only the
// admin changes the owners.
func (c *Console) saveStudio(v *Visit) error {
	slug, err := c.studioOf(v)
	if err != nil {
		return err
	}
	r := v.R
	field := func(name string) *string { s := strings.TrimSpace(r.FormValue(name)); return &s }
	p := dsr.TenantProfile{DisplayName: field("display_name"), LegalName: field("legal_name"),
		PrivacyContact: field("privacy_contact"), BrandColor: field("brand_color")}
	if v.Who.Admin {
		owners := strings.Fields(r.FormValue("owner_emails"))
		p.OwnerEmails = &owners
	}
	t, err := c.Tenants.Update(r.Context(), v.Caller().Actor(), slug, p)
	if err != nil {
		cur, gerr := c.Tenants.Get(r.Context(), slug)
		if gerr != nil {
			return gerr
		}
		d := c.studioData(v, cur)
		d.DisplayName, d.LegalName, d.PrivacyContact, d.BrandColor = *p.DisplayName, *p.LegalName, *p.PrivacyContact, *p.BrandColor
		return v.RenderError("studio", cur.DisplayName, d, inWords(err, studioLabels))
	}
	return v.Redirect(studioPath(v, t.Slug), "Profile saved.")
}

// studioLabels are the studio form's labels of the API's fields.
var studioLabels = map[string]string{"display_name": "Display name", "legal_name": "Controller's legal name",
	"privacy_contact": "Privacy contact", "brand_color": "Colour", "owner_emails": "Owners"}

func studioPath(v *Visit, slug string) string {
	if v.Who.Admin {
		return "/console/studio?studio=" + urlQuery(slug)
	}
	return "/console/studio"
}

// uploadLogo stores the studio's logo in the logo bucket after checking
// that it is a PNG, JPEG or GIF of at most 256 KiB and 2048 pixels a side.
func (c *Console) uploadLogo(v *Visit) error {
	slug, err := c.studioOf(v)
	if err != nil {
		return err
	}
	if c.Logos == nil {
		return dsr.Errorf(dsr.ECONFLICT, "Logos are kept in the export bucket, which is not configured: start Lethe with LETHE_EXPORT_KEY.")
	}
	data, ctype, err := readLogo(v.R)
	if err == nil {
		err = c.Logos.WriteAll(v.R.Context(), logoKey(slug), data, &blob.WriterOptions{ContentType: ctype})
	}
	if err != nil {
		t, gerr := c.Tenants.Get(v.R.Context(), slug)
		if gerr != nil {
			return gerr
		}
		return v.RenderError("studio", t.DisplayName, c.studioData(v, t), err)
	}
	if _, err := c.Audit.Append(v.R.Context(), dsr.AuditEvent{Actor: v.Caller().Actor(), Action: "tenant.logo_updated", Tenant: slug,
		Details: map[string]any{"bytes": len(data), "type": ctype}}); err != nil {
		return err
	}
	return v.Redirect(studioPath(v, slug), "Logo saved.")
}

// readLogo reads and checks the form's logo file.
func readLogo(r *http.Request) ([]byte, string, error) {
	f, _, err := r.FormFile("logo")
	if err != nil {
		return nil, "", dsr.Errorf(dsr.EUNPROCESSABLE, "Logo: choose an image file (PNG, JPEG or GIF).")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLogoBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxLogoBytes {
		return nil, "", dsr.Errorf(dsr.ETOOLARGE, "Logo: at most 256 KiB; make the image smaller.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	ctype, ok := logoTypes[format]
	if err != nil || !ok {
		return nil, "", dsr.Errorf(dsr.EUNPROCESSABLE, "Logo: not a PNG, JPEG or GIF image.")
	}
	if cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, "", dsr.Errorf(dsr.EUNPROCESSABLE, "Logo: at most 2048 pixels wide and high.")
	}
	return data, ctype, nil
}

// hasLogo tells whether slug has a logo in the bucket.
func (c *Console) hasLogo(ctx context.Context, slug string) bool {
	if c.Logos == nil {
		return false
	}
	ok, err := c.Logos.Exists(ctx, logoKey(slug))
	return err == nil && ok
}

// logo serves a studio's logo to its owners and the admin; 404 to others.
func (c *Console) logo(v *Visit) error {
	slug := v.R.PathValue("tenant")
	if (!v.Who.Admin && slug != v.Who.Tenant) || c.Logos == nil || dsr.ValidateTenant(slug) != nil {
		return dsr.Errorf(dsr.ENOTFOUND, "There is no such logo.")
	}
	data, err := c.Logos.ReadAll(v.R.Context(), logoKey(slug))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return dsr.Errorf(dsr.ENOTFOUND, "There is no such logo.")
	} else if err != nil {
		return err
	}
	// The type is read from the image itself: a file bucket keeps no
	// attributes, and only what the upload accepted is served.
	_, format, err := image.DecodeConfig(bytes.NewReader(data))
	ctype, ok := logoTypes[format]
	if err != nil || !ok {
		return fmt.Errorf("console: the stored logo of %s is not an image of an accepted type", slug)
	}
	h := v.W.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Security-Policy", "default-src 'none'")
	_, _ = v.W.Write(data)
	return nil
}
