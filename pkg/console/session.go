package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
)

// sessionCookie holds the session's token; preCookie the CSRF token of the
// sign-in forms, before there is a session.
const (
	sessionCookie = "lethe_console"
	preCookie     = "lethe_console_csrf"
	tokenBytes    = 32
)

// visitor is who is signed in.
type visitor struct {
	Caller dsr.Caller
	Admin  bool
	Tenant string
	// Studio is the studio's display name; Brand its colour; Logo whether
	// it has one.
	Studio string
	Brand  string
	Logo   bool
	// session is the stored session, for sign-out.
	session *dsr.ConsoleSession
}

func newToken() string {
	raw := make([]byte, tokenBytes)
	_, _ = rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// validToken tells whether s looks like a token this package issued.
func validToken(s string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(raw) == tokenBytes
}

func (c *Console) sessionHash(token string) string {
	return c.Subject.Sign("console-session", []byte(token))
}

// adminFingerprint names the admin token an admin's session signed in
// with: a keyed hash, so that the state store never holds anything to
// test guesses of the token against.
func (c *Console) adminFingerprint(token string) string {
	return c.Subject.Sign("console-admin-token", []byte(token))
}

// adminTokenLive tells whether fp is the fingerprint of the admin token or
// of one of the previous admin tokens configured now.
func (c *Console) adminTokenLive(fp string) bool {
	if fp == "" || c.AdminToken == "" {
		return false
	}
	for _, tok := range append([]string{c.AdminToken}, c.AdminTokenPrevious...) {
		if subtle.ConstantTimeCompare([]byte(c.adminFingerprint(tok)), []byte(fp)) == 1 {
			return true
		}
	}
	return false
}

func (c *Console) linkHash(token string) string { return c.Subject.Sign("console-link", []byte(token)) }

// sessionCSRF is the form token of the session whose token is raw: a keyed
// hash of it, so that nothing more is stored and it changes per session.
func (c *Console) sessionCSRF(raw string) string { return c.Subject.Sign("console-csrf", []byte(raw)) }

// errSignIn sends a visitor without a live session to sign in.
func errSignIn(msg string) error { return dsr.Errorf(dsr.EUNAUTHORIZED, "%s", msg) }

// visitor resolves the session cookie into who is signed in, and records
// the activity. EUNAUTHORIZED when there is no session, or it ended:
// signed out, revoked, idle too long, too old, or its owner no longer
// owns the studio. A bearer token (a tenant key, even the admin token) is
// never looked at: the console opens by signing in only.
func (c *Console) visitor(r *http.Request) (*visitor, string, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || !validToken(ck.Value) {
		return nil, "", errSignIn("")
	}
	ctx := r.Context()
	s, err := c.Sessions.Session(ctx, c.sessionHash(ck.Value))
	if dsr.ErrorCode(err) == dsr.ENOTFOUND {
		return nil, "", errSignIn("Your session has ended: sign in again.")
	} else if err != nil {
		return nil, "", err
	}
	now := c.now()
	switch {
	case s.RevokedAt != nil:
		return nil, "", errSignIn("Your session has ended: sign in again.")
	case !now.Before(s.ExpiresAt):
		return nil, "", errSignIn("Your session reached its time limit: sign in again.")
	case now.Sub(s.LastSeenAt) > c.idle():
		return nil, "", errSignIn("Your session ended after a while without activity: sign in again.")
	case s.Admin() && !c.adminTokenLive(s.AdminToken()):
		// The admin token it signed in with was rotated out (perhaps
		// because it leaked): the session ends with it.
		if err := c.Sessions.Revoke(ctx, s.TokenHash, now); err != nil {
			return nil, "", err
		}
		if s.AdminToken() == "" { // opened before sessions were bound to their token
			return nil, "", errSignIn("Your session has ended: sign in again.")
		}
		return nil, "", errSignIn("The admin token this session signed in with is no longer accepted: sign in with the current one.")
	}
	who, err := c.resolve(ctx, s)
	if err != nil {
		return nil, "", err
	}
	if err := c.Sessions.Touch(ctx, s.TokenHash, now); err != nil {
		return nil, "", err
	}
	return who, ck.Value, nil
}

// resolve builds the visitor of session s. An owner's address must still
// be among the studio's owners; if not, the session is revoked.
func (c *Console) resolve(ctx context.Context, s *dsr.ConsoleSession) (*visitor, error) {
	if s.Admin() {
		return &visitor{Caller: dsr.Caller{Admin: true}, Admin: true, session: s}, nil
	}
	t, err := c.Tenants.Get(ctx, s.Tenant)
	if err != nil && dsr.ErrorCode(err) != dsr.ENOTFOUND {
		return nil, err
	}
	owner := dsr.Subject(strings.TrimPrefix(s.Actor, "owner:"))
	if err != nil || !c.owns(t, owner) {
		if rerr := c.Sessions.Revoke(ctx, s.TokenHash, c.now()); rerr != nil {
			return nil, rerr
		}
		return nil, errSignIn("Your address is no longer an owner of this studio: ask its admin.")
	}
	return &visitor{Caller: dsr.Caller{Tenant: t.Slug, Owner: owner}, Tenant: t.Slug, Studio: t.DisplayName,
		Brand: t.BrandColor, Logo: c.hasLogo(ctx, t.Slug), session: s}, nil
}

// owns tells whether owner (a subject) is one of t's owner addresses.
// The current subject key alone is tried: a session is found by a hash
// under that key (sessionHash), made when its owner was, so the owner of
// a session found was hashed with it too.
func (c *Console) owns(t *dsr.Tenant, owner dsr.Subject) bool {
	for _, e := range t.OwnerEmails {
		if subtle.ConstantTimeCompare([]byte(c.Subject.Subject(e)), []byte(owner)) == 1 {
			return true
		}
	}
	return false
}

// openSession starts a session for actor (in tenant, "" for the admin),
// sets its cookie and audits the sign-in.
func (c *Console) openSession(w http.ResponseWriter, r *http.Request, tenant, actor string) error {
	token, now := newToken(), c.now()
	s := &dsr.ConsoleSession{TokenHash: c.sessionHash(token), Tenant: tenant, Actor: actor, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(c.maxAge())}
	ctx := r.Context()
	if err := c.Sessions.Prune(ctx, now.Add(-c.maxAge())); err != nil {
		return err
	}
	if err := c.Sessions.OpenSession(ctx, s); err != nil {
		return err
	}
	if _, err := c.Audit.Append(ctx, dsr.AuditEvent{Actor: auditActor(actor), Action: "console.signed_in", Tenant: tenant}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r), MaxAge: int(c.maxAge().Seconds())})
	return nil
}

// auditActor names a session's actor in the audit trail: the admin is
// "admin", without the fingerprint of its token.
func auditActor(actor string) string {
	if actor == "admin" || strings.HasPrefix(actor, "admin:") {
		return "admin"
	}
	return actor
}

// checkCSRF refuses a form post from another origin or without the
// expected token.
func (c *Console) checkCSRF(r *http.Request, want string) error {
	if !c.sameOrigin(r) {
		return dsr.Errorf(dsr.EFORBIDDEN, "This form was sent from another site: open the console and try again.")
	}
	got := r.FormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return dsr.Errorf(dsr.EFORBIDDEN, "This form has expired: reload the page and send it again.")
	}
	return nil
}

// preCSRF returns the sign-in forms' token, setting its cookie when the
// browser has none (double submit: another site can neither read the
// cookie nor, with SameSite=Strict, make the browser send it).
func (c *Console) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && validToken(ck.Value) {
		return ck.Value
	}
	tok := newToken()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: tok, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r)})
	return tok
}

// checkPreCSRF checks a sign-in form against its cookie.
func (c *Console) checkPreCSRF(r *http.Request) error {
	want := ""
	if ck, err := r.Cookie(preCookie); err == nil && validToken(ck.Value) {
		want = ck.Value
	}
	return c.checkCSRF(r, want)
}

func urlQuery(s string) string { return url.QueryEscape(s) }
