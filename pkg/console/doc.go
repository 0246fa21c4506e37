// Package console is the studio owners' console in the browser, served
// by lethe serve at /console: server-rendered pages (html/template,
// embedded, no script) over the same services the HTTP API calls.
//
// Sign-in. An owner enters their address; if it is an owner address of a
// registered studio, a one-time link is emailed through the self-service
// mailer, under its rate limits. The page answers the same whatever the
// address, and the mail goes out after the answer, so neither the words
// nor the time tell who is an owner. A link works once, for 15 minutes,
// and opens a session: a random token in a cookie (HttpOnly,
// SameSite=Strict, Secure behind TLS), kept server-side only as its keyed
// hash, with an idle and an absolute timeout, revocable by signing out or
// by the admin. The admin signs in by pasting the admin token; a tenant
// key opens nothing here. An owner whose address leaves the studio's
// owners loses their sessions at their next click.
//
// Every action runs as a dsr.Caller of the studio with Owner set, so the
// services audit it as "owner:<subject>" (the HMAC of the address), never
// the address. Owners see their own studio only: another studio's request
// is 404, exactly as one that does not exist.
//
// Forms carry a CSRF token (derived from the session token, or a
// double-submit cookie before sign-in) and are refused from another
// origin. Pages send the /privacy page's Content-Security-Policy (the
// inline stylesheet by its hash), plus img-src 'self' for the studio's
// logo.
//
// Adding a page: write a handler func(*Visit) error on *Console that ends
// in v.Render (or v.Redirect), a template templates/<name>.html.tmpl that
// defines "content", and add a Page to the list in pages.go (its route,
// its navigation label if it belongs in the menu, and Admin for the
// admin's pages). The layout, navigation, session, CSRF check and
// headers come with it.
package console
