package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/locale"
)

// The end user's page (GET /privacy, /privacy/{tenant}): server-rendered,
// no JavaScript, every value escaped by html/template, and a strict
// Content-Security-Policy that allows nothing but the page's own inline
// style (by its hash) and forms posted back to this origin.

//go:embed privacy/page.html.tmpl privacy/page.css
var privacyFiles embed.FS

var (
	privacyPage = template.Must(template.ParseFS(privacyFiles, "privacy/page.html.tmpl"))
	privacyCSS  = mustRead(privacyFiles, "privacy/page.css")
)

// pageCSP allows the page's one style element (by its hash: the studio's
// colour makes it differ between studios), forms posted back here, and
// nothing else.
func pageCSP(css string) string {
	return "default-src 'none'; style-src 'sha256-" + sha256Base64(css) + "'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// csrfCookie holds the token that each form of the page must echo back
// (double submit); SameSite=Strict keeps other sites from sending it.
const csrfCookie = "lethe_privacy_csrf"

func mustRead(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sha256Base64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pageData is what the template shows; Step is "ask", "code", "done" or
// "unknown" (a studio nobody registered).
type pageData struct {
	Step      string
	Tenant    string
	Studio    *dsr.Tenant   // the studio of the page, nil for none
	Studios   []*dsr.Tenant // on /privacy: every studio, to choose from
	Email     string
	Type      string
	RequestID string
	Held      bool   // the review gate holds the request for approval
	Error     string // in the page's language
	problem   problem
	CSRF      string
	Home      string
	Lang      string // the language chosen, carried by the forms
	P         *locale.Printer
	Languages []languageLink
	Brand     brand
	Style     template.CSS
	CodeTTL   int64 // minutes a code works
	LinkDays  int64 // days a download link works
}

// privacyHome serves the form that asks for an email and a choice; on
// /privacy, the studios to choose from too. A studio nobody registered is
// a 404 page that says so.
func (s *Server) privacyHome(c echo.Context) error {
	d := pageData{Step: "ask", Tenant: c.Param("tenant")}
	if d.Tenant != "" && (dsr.ValidateTenant(d.Tenant) != nil || s.known(c.Request().Context(), d.Tenant) != nil) {
		d.Step, d.Tenant = "unknown", ""
		return s.renderPage(c, http.StatusNotFound, d)
	}
	return s.renderPage(c, http.StatusOK, d)
}

// privacyAsk files the request from the page's form and asks for the code.
func (s *Server) privacyAsk(c echo.Context) error {
	d := pageData{Step: "ask", Tenant: c.FormValue("tenant"), Email: c.FormValue("email"), Type: c.FormValue("type")}
	if err := s.checkForm(c); err != nil {
		return s.pageError(c, d, err)
	}
	self, err := s.selfService()
	if err != nil {
		return s.pageError(c, d, err)
	}
	if err := s.knownField(c.Request().Context(), d.Tenant); err != nil {
		d.Tenant = ""
		if dsr.ErrorCode(err) == dsr.EUNPROCESSABLE {
			err = errUnknownStudio
		}
		return s.pageError(c, d, err)
	}
	if !dsr.Type(d.Type).Valid() {
		return s.pageError(c, d, errNoChoice)
	}
	lang := s.pageLanguage(c, d.Tenant)
	t, err := self.Ask(c.Request().Context(), dsr.SelfAsk{Type: dsr.Type(d.Type), Email: d.Email, Tenant: d.Tenant,
		IP: s.clientIP(c), Language: lang})
	if err != nil {
		return s.pageError(c, d, err)
	}
	return s.renderPage(c, http.StatusOK, pageData{Step: "code", Tenant: d.Tenant, Type: d.Type, RequestID: t.ID})
}

// privacyVerify checks the code from the page's form.
func (s *Server) privacyVerify(c echo.Context) error {
	d := pageData{Step: "code", Tenant: c.FormValue("tenant"), RequestID: c.FormValue("id"), Type: c.FormValue("type")}
	if err := s.checkForm(c); err != nil {
		return s.pageError(c, d, err)
	}
	self, err := s.selfService()
	if err != nil {
		return s.pageError(c, d, err)
	}
	code := strings.TrimSpace(c.FormValue("code"))
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return s.pageError(c, d, errCodeShape)
	}
	r, err := self.Verify(c.Request().Context(), d.RequestID, code, s.clientIP(c))
	switch dsr.ErrorCode(err) {
	case "":
		return s.renderPage(c, http.StatusOK, pageData{Step: "done", Tenant: r.Tenant, Type: string(r.Type), RequestID: r.ID,
			Held: r.Status == dsr.StatusAwaitingApproval})
	case dsr.EUNPROCESSABLE, dsr.ERATELIMITED:
		return s.pageError(c, d, err) // the same code form, to try again
	}
	d.Step, d.RequestID = "ask", "" // locked, expired or unknown: start over
	return s.pageError(c, d, err)
}

// publicOriginer is what a SelfService (selfservice.Service) may tell of
// where end users reach Lethe (LETHE_PUBLIC_URL).
type publicOriginer interface {
	PublicOrigin() string
}

// checkForm refuses a form post that did not come from this page: its
// token must match the cookie, and a browser's Origin must be this site.
func (s *Server) checkForm(c echo.Context) error {
	if o := c.Request().Header.Get("Origin"); o != "" && !s.sameOrigin(c, o) {
		return errOtherSite
	}
	ck, err := c.Cookie(csrfCookie)
	form := c.FormValue("csrf")
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		return errSession
	}
	return nil
}

// sameOrigin tells whether a form's Origin is this site: the scheme and
// host of the public URL (LETHE_PUBLIC_URL), which a reverse proxy that
// rewrites the Host header leaves the browser's; or else the request's
// Host, as when end users reach Lethe directly.
func (s *Server) sameOrigin(c echo.Context, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false // "null" among others
	}
	if p, ok := s.Self.(publicOriginer); ok {
		if pub := p.PublicOrigin(); pub != "" && strings.EqualFold(u.Scheme+"://"+u.Host, pub) {
			return true
		}
	}
	return u.Host == c.Request().Host
}

// pageError shows err on the page, in the page's words, with its status
// (and Retry-After).
func (s *Server) pageError(c echo.Context, d pageData, err error) error {
	code := dsr.ErrorCode(err)
	status := statusOf[code]
	if code == dsr.EINTERNAL || status == 0 {
		s.Logger.Error("internal error", "method", c.Request().Method, "route", c.Path(), "error", err)
		status = http.StatusInternalServerError
	}
	var limited *dsr.RateLimitError
	if errors.As(err, &limited) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Round(time.Second)/time.Second)))
	}
	d.problem = problemOf(d.Step, err)
	return s.renderPage(c, status, d)
}

// renderPage writes the page in the language of its reader, with its
// studio's name and colour, its security headers and the form token.
func (s *Server) renderPage(c echo.Context, status int, d pageData) error {
	ctx := c.Request().Context()
	d.CSRF = s.csrfToken(c)
	d.CodeTTL, d.LinkDays = int64(dsr.CodeTTL/time.Minute), int64(dsr.DefaultExportTTL/(24*time.Hour))
	d.Home = "/privacy"
	if d.Tenant != "" && dsr.ValidateTenant(d.Tenant) == nil {
		d.Home += "/" + d.Tenant
		d.Studio = s.studio(ctx, d.Tenant)
	} else if d.Step == "ask" || d.Step == "unknown" {
		d.Studios = s.studios(ctx) // a page of no studio offers every studio
	}
	d.Lang = s.pageLanguage(c, d.Tenant)
	d.P = locale.Shipped().Printer(d.Lang)
	d.Error = d.problem.say(d.P)
	d.Languages = languageLinks(c.Request().URL.Path, d.Home, d.Lang)
	d.Brand = brandOf(d.Studio)
	css := privacyCSS + d.Brand.CSS()
	d.Style = template.CSS(css)
	var buf bytes.Buffer
	if err := privacyPage.Execute(&buf, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", pageCSP(css))
	h.Set("Content-Language", d.Lang)
	h.Set("Vary", "Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on the form posts, which checkForm must refuse.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// csrfToken returns the request's form token, setting a new cookie when
// the browser has none.
func (s *Server) csrfToken(c echo.Context) string {
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: tok, Path: "/privacy", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"})
	return tok
}
