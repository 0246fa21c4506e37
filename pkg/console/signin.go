package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/mail"
)

// Sign-in limits, counted like self-service's in the state store: asks
// and admin attempts per client IP, links per address.
const (
	limitWindow     = time.Hour
	asksPerIP       = 20
	linksPerAddress = 5
	adminTriesPerIP = 10
)

// signInData is what the sign-in pages show.
type signInData struct {
	Step  string // "ask", "sent", "link", "admin"
	Token string // the link's token, on the page it opens
}

// sentNotice is the answer to every address: the same for an owner and a
// stranger.
const sentNotice = "If this address belongs to a studio owner, a sign-in link is on its way to it. " +
	"The link works once, for 15 minutes. Nothing arrives? Check the address and your spam folder, then ask again."

// home is the overview when signed in, else the sign-in form.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err == nil {
		c.page(Page{Route: "GET /console", Path: "/console", Handle: c.overview}).ServeHTTP(w, r)
		return
	}
	c.signInPage(w, r, http.StatusOK, "", "")
}

// signInPage shows the email form, with an error or notice.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	step := "ask"
	if notice != "" {
		step = "sent"
	}
	_ = c.render(w, r, status, "signin", view{Title: "Sign in", CSRF: c.preCSRF(w, r), Error: errMsg, Notice: notice,
		Data: signInData{Step: step}})
}

// askLink is the email form: it emails each studio the address owns a
// one-time link, after answering, and answers the same for any address.
func (c *Console) askLink(w http.ResponseWriter, r *http.Request) {
	if err := c.checkPreCSRF(r); err != nil {
		c.signInPage(w, r, http.StatusForbidden, dsr.ErrorMessage(err), "")
		return
	}
	ctx := r.Context()
	if err := c.Limiter.Limit(ctx, "console-ask-ip", c.clientIP(r), asksPerIP, limitWindow); err != nil {
		status, msg := c.explain(r, err)
		c.signInPage(w, r, status, msg, "")
		return
	}
	email, err := dsr.NormalizeEmail(r.FormValue("email"))
	if err != nil {
		c.signInPage(w, r, http.StatusUnprocessableEntity, dsr.ErrorMessage(inWords(err, emailLabel)), "")
		return
	}
	send := func() {
		// The request's context ends with the answer; the mail goes on.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := c.sendLinks(mctx, email); err != nil {
			c.logger().Error("console: sign-in link not sent", "owner", c.Subject.Subject(email), "error", err)
		}
	}
	if c.mailWait != nil {
		c.mailWait(send)
	} else {
		go send()
	}
	c.signInPage(w, r, http.StatusOK, "", sentNotice)
}

// sendLinks emails a link for each studio email owns, unless the address
// has had linksPerAddress links this hour. A stranger's address gets
// nothing.
func (c *Console) sendLinks(ctx context.Context, email string) error {
	studios, err := c.ownedStudios(ctx, email)
	if err != nil || len(studios) == 0 {
		return err
	}
	if err := c.Limiter.Limit(ctx, "console-link-email", dsr.FoldEmail(email), linksPerAddress, limitWindow); err != nil {
		return err
	}
	owner := c.Subject.Subject(email)
	for _, t := range studios {
		token, now := newToken(), c.now()
		if err := c.Sessions.SaveLink(ctx, c.linkHash(token), dsr.ConsoleLink{Tenant: t.Slug, Owner: owner}, now, now.Add(LinkTTL)); err != nil {
			return err
		}
		link := strings.TrimRight(c.PublicURL, "/") + "/console/signin/" + token
		m := mail.Message{To: email, Subject: "Sign in to the privacy console of " + t.DisplayName, Secret: token,
			Body: fmt.Sprintf("Someone, hopefully you, asked to sign in to the privacy console of %s.\n\n"+
				"Open this link to sign in:\n\n%s\n\nIt works once, for %d minutes. If you did not ask, ignore this email.\n",
				t.DisplayName, link, int(LinkTTL/time.Minute))}
		if err := c.Mail.Send(ctx, m); err != nil {
			return err
		}
		if _, err := c.Audit.Append(ctx, dsr.AuditEvent{Actor: "owner:" + string(owner), Action: "console.link_sent", Tenant: t.Slug}); err != nil {
			return err
		}
	}
	return nil
}

// ownedStudios returns the studios that list email among their owners.
func (c *Console) ownedStudios(ctx context.Context, email string) ([]*dsr.Tenant, error) {
	folded := dsr.FoldEmail(email)
	var out []*dsr.Tenant
	cursor := ""
	for {
		page, err := c.Tenants.List(ctx, cursor, 200)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Items {
			for _, o := range t.OwnerEmails {
				if o == folded {
					out = append(out, t)
					break
				}
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

// showLink is the page an emailed link opens: a button that signs in. The
// link is spent by the button's post, not by opening it, so that a mail
// scanner that fetches links does not use it up.
func (c *Console) showLink(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !validToken(token) {
		c.signInPage(w, r, http.StatusNotFound, "This sign-in link is not valid: use the link from the latest email, or ask for a new one.", "")
		return
	}
	_ = c.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", CSRF: c.preCSRF(w, r), Data: signInData{Step: "link", Token: token}})
}

// useLink spends the link and opens the owner's session.
func (c *Console) useLink(w http.ResponseWriter, r *http.Request) {
	if err := c.checkPreCSRF(r); err != nil {
		c.signInPage(w, r, http.StatusForbidden, dsr.ErrorMessage(err), "")
		return
	}
	token := r.PathValue("token")
	if !validToken(token) {
		c.signInPage(w, r, http.StatusNotFound, "This sign-in link is not valid: use the link from the latest email, or ask for a new one.", "")
		return
	}
	l, err := c.Sessions.UseLink(r.Context(), c.linkHash(token), c.now())
	if err != nil {
		status, msg := c.explain(r, err)
		c.signInPage(w, r, status, msg, "")
		return
	}
	if err := c.openSession(w, r, l.Tenant, "owner:"+string(l.Owner)); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// adminForm asks for the admin token.
func (c *Console) adminForm(w http.ResponseWriter, r *http.Request) {
	_ = c.render(w, r, http.StatusOK, "signin", view{Title: "Admin sign-in", CSRF: c.preCSRF(w, r), Data: signInData{Step: "admin"}})
}

// adminSignIn opens the admin's session for the admin token, compared in
// constant time; a tenant key, or anything else, is refused.
func (c *Console) adminSignIn(w http.ResponseWriter, r *http.Request) {
	again := func(status int, msg string) {
		_ = c.render(w, r, status, "signin", view{Title: "Admin sign-in", CSRF: c.preCSRF(w, r), Error: msg, Data: signInData{Step: "admin"}})
	}
	if err := c.checkPreCSRF(r); err != nil {
		again(http.StatusForbidden, dsr.ErrorMessage(err))
		return
	}
	if err := c.Limiter.Limit(r.Context(), "console-admin-ip", c.clientIP(r), adminTriesPerIP, limitWindow); err != nil {
		status, msg := c.explain(r, err)
		again(status, msg)
		return
	}
	token := strings.TrimSpace(r.FormValue("token"))
	if c.AdminToken == "" || !dsr.TokenIn(token, append([]string{c.AdminToken}, c.AdminTokenPrevious...)...) {
		again(http.StatusUnauthorized, "Token: not the admin token. Studio owners sign in with their email; tenant keys do not open the console.")
		return
	}
	// The session is bound to the token it signed in with: once that token
	// is no longer configured (a previous token dropped), it ends.
	if err := c.openSession(w, r, "", "admin:"+c.adminFingerprint(token)); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// signOut revokes the session and clears its cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	who, raw, err := c.visitor(r)
	if err != nil {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return
	}
	if err := c.checkCSRF(r, c.sessionCSRF(raw)); err != nil {
		c.fail(w, r, who, err)
		return
	}
	ctx := r.Context()
	if err := c.Sessions.Revoke(ctx, who.session.TokenHash, c.now()); err != nil {
		c.fail(w, r, who, err)
		return
	}
	if _, err := c.Audit.Append(ctx, dsr.AuditEvent{Actor: auditActor(who.session.Actor), Action: "console.signed_out", Tenant: who.Tenant}); err != nil {
		c.fail(w, r, who, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r), MaxAge: -1})
	c.signInPage(w, r, http.StatusOK, "", "You are signed out.")
}
