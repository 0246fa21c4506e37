package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestSignInByLink: the form answers an owner and a stranger alike and
// mails only the owner, whose link opens a session once; the cookie is
// HttpOnly and SameSite=Strict; the audit trail names the owner by
// subject only.
func TestSignInByLink(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		br := b.browser(t)
		owner, stranger := br.askLink(acmeOwner), br.askLink("nobody@acme.example")
		if owner.status != http.StatusOK || owner.status != stranger.status {
			t.Fatalf("answers %d and %d", owner.status, stranger.status)
		}
		if strip(owner.body) != strip(stranger.body) || !owner.has("If this address belongs to a studio owner") {
			t.Fatalf("the answer differs for an owner and a stranger:\n%s\n---\n%s", owner.body, stranger.body)
		}
		msgs := b.smtp.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != acmeOwner {
			t.Fatalf("mails sent: %+v, want one to the owner", msgs)
		}
		link := b.mailedLink(t, acmeOwner)
		if p := br.get(link); !p.has(`id="continue"`) {
			t.Fatalf("opening the link should show a button, not spend it:\n%s", p.body)
		}
		br.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res := br.do(http.MethodPost, link, url.Values{"csrf": {br.get(link).csrf()}})
		br.client.CheckRedirect = nil
		ck := setCookie(t, res)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure over http", ck)
		}
		if p := br.get("/console"); !p.has("Acme Coaching") || !p.has(`id="signout"`) {
			t.Fatalf("after the link: %d\n%s", p.status, p.body)
		}
		again := b.browser(t)
		if p := again.post(link, link, nil); p.has(`id="signout"`) || !p.has("not valid any more") {
			t.Fatalf("a link used once opened a second session: %d\n%s", p.status, p.body)
		}
		entries, err := b.audit.List(context.Background(), dsr.AuditFilter{Tenant: "acme", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := "owner:" + string(b.hasher.Subject(acmeOwner))
		var signedIn bool
		for _, e := range entries {
			if strings.Contains(e.Actor+string(e.Details), acmeOwner) {
				t.Errorf("audit entry %d holds the address in clear", e.Seq)
			}
			signedIn = signedIn || (e.Action == "console.signed_in" && e.Actor == want)
		}
		if !signedIn {
			t.Errorf("no console.signed_in entry by %s in %+v", want, entries)
		}
	})
}

// strip drops the form tokens, which differ per page view.
func strip(body string) string { return csrfRE.ReplaceAllString(body, "") }

// setCookie is the session cookie a reply sets, with its attributes.
func setCookie(t *testing.T, p page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "lethe_console" {
			return c
		}
	}
	t.Fatalf("no session cookie set: %v", p.header["Set-Cookie"])
	return nil
}

// TestLinkExpires: a link is refused after 15 minutes.
func TestLinkExpires(t *testing.T) {
	b := setup(t, "sqlite")
	br := b.browser(t)
	br.askLink(acmeOwner)
	link := b.mailedLink(t, acmeOwner)
	b.clock.Advance(15*time.Minute + time.Second)
	if p := br.post(link, link, nil); p.has(`id="signout"`) || p.status != http.StatusNotFound {
		t.Fatalf("an expired link answered %d:\n%s", p.status, p.body)
	}
}

// TestSessionTimeouts: a session ends after 30 idle minutes, and after 12
// hours however active it is.
func TestSessionTimeouts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		br := b.signIn(t, acmeOwner)
		b.clock.Advance(29 * time.Minute)
		if p := br.get("/console/requests"); p.status != http.StatusOK || !p.has(`id="signout"`) {
			t.Fatalf("after 29 idle minutes: %d", p.status)
		}
		b.clock.Advance(31 * time.Minute)
		if p := br.get("/console/requests"); p.has(`id="signout"`) || !p.has("without activity") {
			t.Fatalf("after 31 idle minutes the session still works:\n%s", p.body)
		}

		br = b.signIn(t, acmeOwner)
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			b.clock.Advance(20 * time.Minute)
			if p := br.get("/console/requests"); !p.has(`id="signout"`) {
				t.Fatalf("an active session ended after %s", elapsed+20*time.Minute)
			}
		}
		b.clock.Advance(20 * time.Minute)
		if p := br.get("/console/requests"); p.has(`id="signout"`) || !p.has("time limit") {
			t.Fatalf("a session outlived 12 hours:\n%s", p.body)
		}
	})
}

// TestSessionRevoked: signing out ends the session; so does the admin's
// revocation, and the owner's address leaving the studio's owners.
func TestSessionRevoked(t *testing.T) {
	b := setup(t, "sqlite")
	br := b.signIn(t, acmeOwner)
	if p := br.post("/console/requests", "/console/signout", nil); !p.has("You are signed out") {
		t.Fatalf("sign-out: %d\n%s", p.status, p.body)
	}
	stale := br.get("/console/requests")
	if stale.has(`id="signout"`) {
		t.Fatal("the session still works after signing out")
	}

	br = b.signIn(t, acmeOwner)
	admin := b.signInAdmin(t)
	if p := admin.post("/console/studios", "/console/studios/acme/revoke", nil); !p.has("1 session(s) of acme ended") {
		t.Fatalf("revoke: %d\n%s", p.status, p.body)
	}
	if p := br.get("/console/requests"); p.has(`id="signout"`) {
		t.Fatal("the owner's session still works after the admin revoked it")
	}
	if p := admin.get("/console/requests"); !p.has(`id="signout"`) {
		t.Fatal("revoking a studio's sessions ended the admin's")
	}

	br = b.signIn(t, acmeOwner)
	others := []string{"new@acme.example"}
	if _, err := b.tenants.Update(context.Background(), "admin", "acme", dsr.TenantProfile{OwnerEmails: &others}); err != nil {
		t.Fatal(err)
	}
	if p := br.get("/console/requests"); p.has(`id="signout"`) || !p.has("no longer an owner") {
		t.Fatalf("a former owner's session still works:\n%s", p.body)
	}
}

// TestCSRF: a form without the session's token, or from another origin,
// is refused and changes nothing.
func TestCSRF(t *testing.T) {
	b := setup(t, "sqlite")
	br := b.signIn(t, acmeOwner)
	form := url.Values{"type": {"access"}, "email": {"ada@example.com"}, "key": {"k"}}
	if p := br.do(http.MethodPost, "/console/requests/new", form); p.status != http.StatusForbidden {
		t.Fatalf("a form without a token answered %d", p.status)
	}
	form.Set("csrf", "forged")
	if p := br.do(http.MethodPost, "/console/requests/new", form); p.status != http.StatusForbidden {
		t.Fatalf("a form with a forged token answered %d", p.status)
	}
	form.Set("csrf", br.get("/console/requests/new").csrf())
	br.header.Set("Origin", "https://evil.example")
	if p := br.do(http.MethodPost, "/console/requests/new", form); p.status != http.StatusForbidden {
		t.Fatalf("a form from another origin answered %d", p.status)
	}
	page, err := b.requests.List(context.Background(), dsr.Caller{Admin: true}, dsr.RequestFilter{})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("refused forms filed %d request(s) (%v)", len(page.Items), err)
	}
	br.header.Del("Origin")
	if p := br.do(http.MethodPost, "/console/requests/new", form); p.status != http.StatusOK || !p.has("Request filed") {
		t.Fatalf("the genuine form answered %d:\n%s", p.status, p.body)
	}
	// The sign-in form before a session has its own token.
	anon := b.browser(t)
	if p := anon.do(http.MethodPost, "/console/signin", url.Values{"email": {acmeOwner}}); p.status != http.StatusForbidden {
		t.Fatalf("the sign-in form without its token answered %d", p.status)
	}
}

// TestTenantIsolation: an owner sees their own studio only; another
// studio's request is 404 by URL and absent from lists, and cannot be
// cancelled.
func TestTenantIsolation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		acme := b.signIn(t, acmeOwner)
		filed := acme.post("/console/requests/new", "/console/requests/new", url.Values{"type": {"access"},
			"email": {"ada@example.com"}, "key": {"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k"}})
		if !filed.has("Request filed") {
			t.Fatalf("filing answered %d:\n%s", filed.status, filed.body)
		}
		page, err := b.requests.List(context.Background(), dsr.Caller{Admin: true}, dsr.RequestFilter{})
		if err != nil || len(page.Items) != 1 || page.Items[0].Tenant != "acme" {
			t.Fatalf("requests: %+v (%v)", page, err)
		}
		id := page.Items[0].ID
		if p := acme.get("/console/requests/" + id); p.status != http.StatusOK {
			t.Fatalf("the owner's own request answered %d", p.status)
		}
		globex := b.signIn(t, globexBoss)
		if p := globex.get("/console/requests/" + id); p.status != http.StatusNotFound {
			t.Fatalf("another studio's request answered %d", p.status)
		}
		for _, path := range []string{"/console", "/console/requests"} {
			if p := globex.get(path); p.has(id) {
				t.Errorf("%s shows another studio's request", path)
			}
		}
		if p := globex.post("/console/requests", "/console/requests/"+id+"/cancel", url.Values{"confirm": {"yes"}}); p.status != http.StatusNotFound {
			t.Fatalf("cancelling another studio's request answered %d", p.status)
		}
		if p := globex.get("/console/studios"); p.status != http.StatusNotFound {
			t.Fatalf("an owner opened an admin page: %d", p.status)
		}
		if p := globex.get("/console/logo/acme"); p.status != http.StatusNotFound {
			t.Fatalf("an owner read another studio's logo route: %d", p.status)
		}
	})
}

// TestTenantKeyCannotOpenConsole: a tenant key, as a bearer token or in
// the admin form, opens nothing; the admin token in the form does.
func TestTenantKeyCannotOpenConsole(t *testing.T) {
	b := setup(t, "sqlite")
	k, err := b.keys.Create(context.Background(), "admin", "acme")
	if err != nil {
		t.Fatal(err)
	}
	key := k.Token
	br := b.browser(t)
	br.header.Set("Authorization", "Bearer "+key)
	if p := br.get("/console/requests"); p.has(`id="signout"`) || !p.has(`id="send-link"`) {
		t.Fatalf("a tenant key as bearer opened the console:\n%s", p.body)
	}
	if p := br.post("/console/admin/signin", "/console/admin/signin", url.Values{"token": {key}}); p.status != http.StatusUnauthorized || p.has(`id="signout"`) {
		t.Fatalf("a tenant key in the admin form answered %d", p.status)
	}
	br.header.Del("Authorization")
	admin := b.signInAdmin(t)
	if p := admin.get("/console/studios"); p.status != http.StatusOK || !p.has("Globex Therapy") {
		t.Fatalf("the admin's studios page answered %d", p.status)
	}
}

// TestSecureCookieBehindHTTPS: with an https public URL the session
// cookie is Secure.
func TestSecureCookieBehindHTTPS(t *testing.T) {
	b := setup(t, "sqlite")
	br := b.browser(t)
	br.askLink(acmeOwner)
	link := b.mailedLink(t, acmeOwner)
	b.console.PublicURL = "https://privacy.example.com"
	br.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c := setCookie(t, br.post(link, link, nil)); !c.Secure {
		t.Fatalf("session cookie %+v is not Secure", c)
	}
}

// TestAdminSessionBoundToToken: an admin's session is bound to the token
// it signed in with. Once that token is no longer configured (a previous
// token dropped), the session ends, saying why, and stays ended; a session
// of a token still configured goes on. The audit trail names the admin
// "admin", without the token's fingerprint.
func TestAdminSessionBoundToToken(t *testing.T) {
	b := setup(t, "sqlite")
	const next = "admin-token-for-console-tests-the-next-one"
	b.console.AdminToken, b.console.AdminTokenPrevious = next, []string{adminToken}
	old := b.signInAdmin(t) // with the previous token
	cur := b.browser(t)
	if p := cur.post("/console/admin/signin", "/console/admin/signin", url.Values{"token": {next}}); !p.has(`id="signout"`) {
		t.Fatalf("admin sign-in with the current token answered %d", p.status)
	}
	b.console.AdminTokenPrevious = nil
	if p := old.get("/console/studios"); p.has(`id="signout"`) || !p.has("no longer accepted") {
		t.Fatalf("the session of the dropped admin token answered %d:\n%s", p.status, p.body)
	}
	b.console.AdminTokenPrevious = []string{adminToken} // put back: the session was revoked
	if p := old.get("/console/studios"); p.has(`id="signout"`) {
		t.Fatalf("the revoked session of the dropped admin token opened again: %d", p.status)
	}
	if p := cur.get("/console/studios"); p.status != http.StatusOK || !p.has(`id="signout"`) {
		t.Fatalf("the session of the current admin token answered %d", p.status)
	}
	entries, err := b.audit.List(context.Background(), dsr.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	signedIn := 0
	for _, e := range entries {
		if e.Action == "console.signed_in" {
			signedIn++
			if e.Actor != "admin" {
				t.Errorf("console.signed_in by %q; want admin", e.Actor)
			}
		}
	}
	if signedIn != 2 {
		t.Errorf("%d console.signed_in entries; want 2", signedIn)
	}
}
