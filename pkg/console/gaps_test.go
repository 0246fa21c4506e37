package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// TestCancelNeedsAReason: the owner cancels a request only with a reason
// (required, no email address, the form kept), which the request's page
// then shows as the one the person is told, and the audit trail keeps.
func TestCancelNeedsAReason(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r, _, err := b.requests.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeAccess, Email: "ada@example.com", Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		acme := b.signIn(t, acmeOwner)
		path := "/console/requests/" + r.ID
		if p := acme.get(path); !p.has(`id="cancel-reason"`) {
			t.Fatalf("the request page has no reason field:\n%s", p.body)
		}
		p := acme.post(path, path+"/cancel", url.Values{"confirm": {"yes"}})
		if p.status != http.StatusUnprocessableEntity || !p.has("say why the request is cancelled") {
			t.Fatalf("cancelling without a reason answered %d:\n%s", p.status, p.body)
		}
		p = acme.post(path, path+"/cancel", url.Values{"confirm": {"yes"}, "cancel-reason": {"ada@example.com phoned"}})
		if p.status != http.StatusUnprocessableEntity || !p.has("leave email addresses out") {
			t.Fatalf("a reason with an address answered %d:\n%s", p.status, p.body)
		}
		const reason = "The person withdrew it by phone"
		p = acme.post(path, path+"/cancel", url.Values{"confirm": {"yes"}, "cancel-reason": {reason}})
		if p.status != http.StatusOK || !p.has("Cancelled; the reason the person is told: "+reason) {
			t.Fatalf("cancelling with a reason answered %d:\n%s", p.status, p.body)
		}
		got, err := b.requests.Get(ctx, dsr.Caller{Admin: true}, r.ID)
		if err != nil || got.Status != dsr.StatusCancelled || got.Err == nil || got.Err.Message != reason {
			t.Fatalf("the cancelled request: %+v (%v)", got, err)
		}
		entries, err := b.audit.List(ctx, dsr.AuditFilter{RequestID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		var audited bool
		for _, e := range entries {
			audited = audited || (e.Action == "request.cancelled" && strings.Contains(string(e.Details), `"reason":"`+reason+`"`) && strings.HasPrefix(e.Actor, "owner:"))
		}
		if !audited {
			t.Errorf("no audit entry of the cancellation with its reason: %+v", entries)
		}
	})
}

// TestOwnerSeesOwnSweepCounts: a sweep purged rows of both studios and
// rows of no studio; each owner's retention page shows the studio's own
// figure, the admin's the sum.
func TestOwnerSeesOwnSweepCounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		runs := &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher}
		b.console.Runs = runs
		run, err := runs.Begin(ctx, retention.Begin{Trigger: retention.TriggerCLI, Actor: "admin", Now: b.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		finishCounted(t, runs, run)
		for _, tc := range []struct {
			who        *browser
			want, nots []string
		}{
			{b.signIn(t, acmeOwner), []string{cell("3")}, []string{cell("120"), cell("103"), cell("17")}},
			{b.signIn(t, globexBoss), []string{cell("17")}, []string{cell("120"), cell("117"), cell("3")}},
			{b.signInAdmin(t), []string{cell("120")}, nil},
		} {
			for _, path := range []string{"/console/retention", "/console"} {
				p := tc.who.get(path)
				for _, w := range tc.want {
					if !p.has(w) {
						t.Errorf("%s lacks %s:\n%s", path, w, p.body)
					}
				}
				for _, n := range tc.nots {
					if p.has(n) {
						t.Errorf("%s shows %s, not the visitor's", path, n)
					}
				}
			}
		}
	})
}

// finishCounted completes run as a sweep that purged 100 rows of no
// studio, 3 of acme's and 17 of globex's.
func finishCounted(t *testing.T, runs *state.RetentionRuns, run *retention.Run) {
	t.Helper()
	run.Status = retention.StatusCompleted
	run.Counts = []retention.Count{{Collection: "app.chats", RowsPurged: 100}, {Collection: "app.chats", Tenant: "acme", RowsPurged: 3},
		{Collection: "app.chats", Tenant: "globex", RowsPurged: 17}}
	if err := runs.Finish(context.Background(), run); err != nil {
		t.Fatal(err)
	}
}

// cell is the retention table's cell of n rows purged.
func cell(n string) string { return `data-label="Rows purged">` + n + `</td>` }
