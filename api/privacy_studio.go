package api

import (
	"context"
	"fmt"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/locale"
)

// maxStudiosListed bounds the studios /privacy lists.
const maxStudiosListed = 200

// studio returns the profile of a registered tenant, nil when there is
// none or it cannot be read (the page then speaks of no studio).
func (s *Server) studio(ctx context.Context, slug string) *dsr.Tenant {
	if s.Tenants == nil || slug == "" {
		return nil
	}
	t, err := s.Tenants.Get(ctx, slug)
	if err != nil {
		return nil
	}
	return t
}

// studios returns the registered studios for /privacy to list, by slug.
func (s *Server) studios(ctx context.Context) []*dsr.Tenant {
	if s.Tenants == nil {
		return nil
	}
	page, err := s.Tenants.List(ctx, "", maxStudiosListed)
	if err != nil {
		s.Logger.Error("privacy page: list studios", "error", err)
		return nil
	}
	return page.Items
}

// pageLanguage picks the page's language: ?lang= (the language switch)
// or the form's lang field, then the browser's Accept-Language, then the
// studio's default language.
func (s *Server) pageLanguage(c echo.Context, tenant string) string {
	chosen := c.QueryParam("lang")
	if chosen == "" {
		chosen = c.FormValue("lang")
	}
	studioLang := ""
	if st := s.studio(c.Request().Context(), tenant); st != nil {
		studioLang = st.Language
	}
	return locale.Shipped().Choose(chosen, c.Request().Header.Get("Accept-Language"), studioLang)
}

// languageLink is one entry of the page's language switch.
type languageLink struct {
	Lang    string // tag, for hreflang and lang
	Name    string // the language's name in itself
	URL     string
	Current bool
}

// languageLinks lists every language as a link to the page in it. A form's
// answer (a POST) links back to the start of the page.
func languageLinks(path, home, current string) []languageLink {
	if path != home {
		path = home
	}
	var out []languageLink
	for _, lang := range locale.Shipped().Languages() {
		out = append(out, languageLink{Lang: lang, Name: locale.Shipped().Printer(lang).T("language.name"),
			URL: path + "?lang=" + url.QueryEscape(lang), Current: lang == current})
	}
	return out
}

// brand is the colours of the page's band and buttons (Tenant.Colors).
type brand struct{ Color, Text string }

func brandOf(t *dsr.Tenant) brand {
	bg, fg := t.Colors()
	return brand{Color: bg, Text: fg}
}

// CSS is the style rule that paints the page's band and buttons.
func (b brand) CSS() string {
	return fmt.Sprintf("\n.band,button{background:%s;color:%s}\n", b.Color, b.Text)
}
