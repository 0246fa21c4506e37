package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// maxFormBytes bounds a form post: a logo and its fields.
const maxFormBytes = maxLogoBytes + 64<<10

// Page is one route of the console behind sign-in.
type Page struct {
	// Route is the ServeMux pattern, such as "GET /console/retention".
	Route string
	// Nav is the label in the navigation, "" for a page reached by links;
	// Path is where the navigation links to.
	Nav, Path string
	// Admin pages answer 404 to owners.
	Admin bool
	// Studio pages are about one studio: the owner's, or for the admin
	// the one ?studio= names, so the admin reaches them from Studios and
	// not from the navigation.
	Studio bool
	// Handle serves the page; it ends with v.Render or v.Redirect, or
	// returns an error shown on the error page.
	Handle func(v *Visit) error
}

//go:embed templates/*.html.tmpl templates/console.css
var files embed.FS

var (
	baseCSS   = mustRead("templates/console.css")
	templates = parseTemplates()
	funcs     = template.FuncMap{
		"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"when":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		"whenp":    whenPtr,
		"days":     func(t, now time.Time) int { return int(t.Sub(now).Hours() / 24) },
		"abs":      func(n int) int { return max(n, -n) },
		"title":    func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
		"statuses": func() []dsr.Status { return dsr.Statuses },
	}
)

func whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// parseTemplates builds one set per page template: the layout, the
// partials (files starting with "_") and the page, which defines
// "content".
func parseTemplates() map[string]*template.Template {
	names, err := fs.Glob(files, "templates/*.html.tmpl")
	if err != nil {
		panic(err)
	}
	var shared []string
	for _, n := range names {
		if base := strings.TrimPrefix(n, "templates/"); strings.HasPrefix(base, "_") || base == "layout.html.tmpl" {
			shared = append(shared, n)
		}
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html.tmpl")
		if strings.HasPrefix(base, "_") || base == "layout" {
			continue
		}
		t := template.New(base).Funcs(funcs)
		out[base] = template.Must(t.ParseFS(files, append(append([]string{}, shared...), n)...))
	}
	return out
}

// navLink is one entry of the navigation.
type navLink struct {
	Label, Path string
	Current     bool
}

// view is what the layout shows around a page's content.
type view struct {
	Title   string
	CSRF    string
	Style   template.CSS
	Who     *visitor
	Nav     []navLink
	Error   string
	Notice  string
	Status  int
	Now     time.Time
	Data    any
	Printed bool // the certificate: no navigation
}

// Visit is one request of a signed-in person to a page.
type Visit struct {
	W    http.ResponseWriter
	R    *http.Request
	C    *Console
	Who  *visitor
	page Page
	csrf string
}

// Caller is the visitor as the services know them.
func (v *Visit) Caller() dsr.Caller { return v.Who.Caller }

// Render shows the page template name with data and status 200.
func (v *Visit) Render(name, title string, data any) error {
	return v.C.render(v.W, v.R, http.StatusOK, name, view{Title: title, Who: v.Who, CSRF: v.csrf, Data: data,
		Notice: v.R.URL.Query().Get("done")})
}

// RenderError shows the page template name with data and the message of
// err (a form to correct), with err's status.
func (v *Visit) RenderError(name, title string, data any, err error) error {
	status, msg := v.C.explain(v.R, err)
	return v.C.render(v.W, v.R, status, name, view{Title: title, Who: v.Who, CSRF: v.csrf, Data: data, Error: msg})
}

// Redirect sends the browser to path after a form (303), with notice
// shown there.
func (v *Visit) Redirect(path, notice string) error {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + urlQuery(notice)
	}
	http.Redirect(v.W, v.R, path, http.StatusSeeOther)
	return nil
}

// statusOf maps dsr error codes to HTTP statuses, as the API does.
var statusOf = map[string]int{
	dsr.EINVALID: http.StatusBadRequest, dsr.EUNAUTHORIZED: http.StatusUnauthorized, dsr.EFORBIDDEN: http.StatusForbidden,
	dsr.ENOTFOUND: http.StatusNotFound, dsr.ECONFLICT: http.StatusConflict, dsr.ETOOLARGE: http.StatusRequestEntityTooLarge,
	dsr.EUNPROCESSABLE: http.StatusUnprocessableEntity, dsr.ERATELIMITED: http.StatusTooManyRequests,
	dsr.EUNAVAILABLE: http.StatusServiceUnavailable, dsr.EGONE: http.StatusGone,
}

// explain returns the status and the plain message of err; an internal
// error is logged and shown without its details.
func (c *Console) explain(r *http.Request, err error) (int, string) {
	status := statusOf[dsr.ErrorCode(err)]
	if status == 0 {
		c.logger().Error("console: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		return http.StatusInternalServerError, "Something went wrong on our side; it is logged. Try again in a minute."
	}
	return status, dsr.ErrorMessage(err)
}

// fail shows err on the error page (with the visitor's layout when signed in).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, who *visitor, err error) {
	status, msg := c.explain(r, err)
	var limited *dsr.RateLimitError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Round(time.Second)/time.Second)))
	}
	_ = c.render(w, r, status, "error", view{Title: http.StatusText(status), Who: who, Error: msg})
}

// render writes page name in the layout with the console's headers: the
// CSP of /privacy (the stylesheet by its hash), img-src 'self' for the
// logo, no framing, no caching.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	t := templates[name]
	css := baseCSS
	if v.Who != nil {
		v.Nav = c.nav(v.Who, r.URL.Path)
		if v.Who.Brand != "" {
			css += "\n:root{--brand:" + v.Who.Brand + "}\n"
		}
	}
	v.Style, v.Status, v.Now = template.CSS(css), status, c.now()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.logger().Error("console: template", "page", name, "error", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return nil
	}
	sum := sha256.Sum256([]byte(css))
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'; "+
		"img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// nav is the navigation of who, the page at path marked current.
func (c *Console) nav(who *visitor, path string) []navLink {
	var out []navLink
	for _, p := range c.pages() {
		if p.Nav == "" || (p.Admin && !who.Admin) || (p.Studio && who.Admin) {
			continue
		}
		out = append(out, navLink{Label: p.Nav, Path: p.Path, Current: p.Path == path})
	}
	return out
}

// page serves p behind sign-in: no session sends the browser to sign
// in (a form post is refused), an owner on an admin page gets 404, and a
// form post must carry the session's CSRF token from this origin.
func (c *Console) page(p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, raw, err := c.visitor(r)
		if err != nil {
			if r.Method == http.MethodGet && dsr.ErrorCode(err) == dsr.EUNAUTHORIZED {
				c.signInPage(w, r, http.StatusOK, dsr.ErrorMessage(err), "")
				return
			}
			c.fail(w, r, nil, err)
			return
		}
		if p.Admin && !who.Admin {
			c.fail(w, r, who, dsr.Errorf(dsr.ENOTFOUND, "There is no such page: check the address."))
			return
		}
		v := &Visit{W: w, R: r, C: c, Who: who, page: p, csrf: c.sessionCSRF(raw)}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := c.checkCSRF(r, v.csrf); err != nil {
				c.fail(w, r, who, err)
				return
			}
		}
		if err := p.Handle(v); err != nil {
			c.fail(w, r, who, err)
		}
	})
}

// inWords says an API validation message as the form labels its fields:
// the message's leading JSON field ("display_name: …") becomes the
// field's label, and `or "" for none` becomes "or leave it empty".
// Other errors, and messages naming no field of labels, are kept.
func inWords(err error, labels map[string]string) error {
	if err == nil || dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
		return err
	}
	field, rest, ok := strings.Cut(dsr.ErrorMessage(err), ": ")
	label, known := labels[field]
	if !ok || !known {
		return err
	}
	return dsr.Errorf(dsr.EUNPROCESSABLE, "%s: %s", label, strings.ReplaceAll(rest, `or "" for none`, "or leave it empty"))
}

// emailLabel names the email field of the sign-in and request forms.
var emailLabel = map[string]string{"email": "Email"}
