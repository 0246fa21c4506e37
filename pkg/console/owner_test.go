package console_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// TestOwnerQueuesDryRun: an owner's retention page has the dry run button;
// pressing it queues a dry run audited as the owner, whose counts the
// owner then sees for the studio alone; a studio's owners queue at most
// six an hour.
func TestOwnerQueuesDryRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		runs := &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher, Enqueue: noJob}
		b.console.Runs = runs
		acme := b.signIn(t, acmeOwner)
		if p := acme.get("/console/retention"); !p.has(`id="dry-run"`) {
			t.Fatalf("the owner's retention page has no dry run button:\n%s", p.body)
		} else if !p.has("under the application's windows and the shorter ones you set") || p.has("all studios together") {
			t.Errorf("the owner's dry run hint should say it counts the studio's records under both windows:\n%s", p.body)
		}
		p := acme.post("/console/retention", "/console/retention/dry-run", nil)
		if p.status != http.StatusOK || !p.has("queued: it counts what a sweep would purge and changes nothing") {
			t.Fatalf("the owner's dry run answered %d:\n%s", p.status, p.body)
		}
		page, err := runs.Runs(ctx, retention.RunFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || !page.Items[0].DryRun || !strings.HasPrefix(page.Items[0].Actor, "owner:") {
			t.Fatalf("queued runs: %+v", page.Items)
		}
		// The worker's part (the queue's job is not needed here): the dry run counts every studio's rows.
		run, err := runs.Begin(ctx, retention.Begin{ID: page.Items[0].ID, Now: b.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		finishCounted(t, runs, run)
		p = acme.get("/console/retention")
		if !p.has(`<span class="tag">dry run</span>`) || !p.has(cell("3")) || p.has(cell("120")) || p.has(cell("17")) {
			t.Errorf("the owner's page does not show the studio's own dry run counts alone:\n%s", p.body)
		}
		for i := 2; i <= 6; i++ {
			if p := acme.post("/console/retention", "/console/retention/dry-run", nil); p.status != http.StatusOK {
				t.Fatalf("dry run %d answered %d:\n%s", i, p.status, p.body)
			}
		}
		globex := b.signIn(t, globexBoss)
		if p := acme.post("/console/retention", "/console/retention/dry-run", url.Values{}); p.status != http.StatusTooManyRequests {
			t.Errorf("a seventh dry run in the hour answered %d:\n%s", p.status, p.body)
		}
		if p := globex.post("/console/retention", "/console/retention/dry-run", nil); p.status != http.StatusOK {
			t.Errorf("another studio's dry run answered %d:\n%s", p.status, p.body)
		}
	})
}

// noJob stands for the queue's insert of a run's job: no worker runs here.
func noJob(context.Context, *sql.Tx, string) error { return nil }

// TestFormsSayMessagesInPlainWords: the API's messages about a form's
// fields name them as the form labels them, once: a missing or malformed
// address on the sign-in and new request forms, and the studio profile's
// fields.
func TestFormsSayMessagesInPlainWords(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		check := func(what string, p page, want string) {
			t.Helper()
			if p.status != http.StatusUnprocessableEntity || !p.has(want) || p.has("Email: email:") {
				t.Errorf("%s answered %d, not %q:\n%s", what, p.status, want, p.body)
			}
		}
		visitor := b.browser(t)
		check("signing in without an address", visitor.askLink(""), "Email: required")
		check("signing in with no address", visitor.askLink("owner"), "Email: not a plain address such as name@example.com")
		acme := b.signIn(t, acmeOwner)
		for email, want := range map[string]string{"": "Email: required", "not-an-address": "Email: not a plain address such as name@example.com"} {
			p := acme.post("/console/requests/new", "/console/requests/new", url.Values{"type": {"access"}, "email": {email}})
			check("a request for "+email, p, want)
		}
		r, _, err := b.requests.Create(context.Background(), dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeAccess, Email: "ada@example.com", Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		path := "/console/requests/" + r.ID
		check("an extension by 0 days", acme.post(path, path+"/extend", url.Values{"days": {"0"}, "reason": {"Complex"}}),
			"Days: must be a whole number of days above 0")
		check("an extension with a long reason", acme.post(path, path+"/extend", url.Values{"days": {"10"}, "reason": {strings.Repeat("x", 1001)}}),
			"Reason: at most 1000 characters")
		profile := url.Values{"display_name": {"Acme Coaching"}, "legal_name": {"Acme Ltd"}, "privacy_contact": {"privacy@acme.example"}, "brand_color": {""}}
		for field, c := range map[string]struct{ value, want string }{
			"display_name":    {"", "Display name: required, at most 200 characters"},
			"privacy_contact": {"privacy", "Privacy contact: a plain address such as privacy@example.com, or leave it empty"},
			"brand_color":     {"red", "Colour: a colour as &#34;#rrggbb&#34;, or leave it empty"},
		} {
			form := url.Values{}
			for k, v := range profile {
				form[k] = v
			}
			form.Set(field, c.value)
			check("a profile with "+field+" "+c.value, acme.post("/console/studio", "/console/studio", form), c.want)
		}
	})
}
