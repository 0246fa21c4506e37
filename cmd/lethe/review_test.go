package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// reviewed is what the review gate test reads of a request.
type reviewed struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	DueAt     time.Time `json:"due_at"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
	Review *struct {
		Plan struct {
			Collections []struct {
				Collection string `json:"collection"`
				Count      int64  `json:"count"`
			} `json:"collections"`
			Total int64 `json:"total"`
		} `json:"plan"`
		ApprovedBy *string `json:"approved_by"`
	} `json:"review"`
}

// TestReviewGate runs the review gate on lethe serve --demo, with its
// state on SQLite and on Postgres: Career Coach requires approval of
// erasures and access requests in its settings; a held erasure waits with
// its plan, listed as awaiting_approval with its deadline unchanged, while
// another studio's key gets 404 for it; approved, it runs and Grace's chat
// is gone. A self-service erasure verified by its code is held too, denied
// with a reason, and the person's closing mail carries the reason while
// her data stays. Calm Mind's erasure, not gated, runs at once; approving
// a request that does not wait is 409.
func TestReviewGate(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			smtp := mailtest.Start(t)
			flags := []string{"--smtp-url", smtp.URL()}
			if dialect == "postgres" {
				flags = append(flags, "--database-url", testdb.Postgres(t))
			}
			s := startDemo(t, flags...)
			reviewGate(t, s, smtp)
		})
	}
}

func reviewGate(t *testing.T, s *demoServer, smtp *mailtest.Server) {
	coach, calm := demoKey(t, s, "career-coach"), demoKey(t, s, "calm-mind")
	if code := callAs(t, s, coach, "PUT", "/v1/tenants/career-coach/settings", `{"approval":{"erasure":true,"access":true}}`, nil); code != http.StatusOK {
		t.Fatalf("PUT settings: %d", code)
	}
	app := openDemoApp(t, s)
	graceChats := `SELECT count(*) FROM chats WHERE studio_id = 'career-coach' AND user_id = (SELECT id FROM users WHERE email = 'grace@example.com')`
	if n := countRows(t, app, graceChats); n != 1 {
		t.Fatalf("the demo has %d chats of Grace at Career Coach; want 1", n)
	}

	var held reviewed
	if code := callAs(t, s, coach, "POST", "/v1/requests", `{"type":"erasure","email":"grace@example.com"}`, &held); code != http.StatusAccepted ||
		held.Status != "awaiting_approval" || held.Review == nil || held.Review.Plan.Total == 0 {
		t.Fatalf("gated erasure: %d %+v; want awaiting_approval with a plan", code, held)
	}
	if !held.DueAt.Equal(held.CreatedAt.Add(30 * 24 * time.Hour)) {
		t.Errorf("due_at %s; want 30 days after %s, the deadline running while it waits", held.DueAt, held.CreatedAt)
	}
	var waiting struct{ Items []reviewed }
	if callAs(t, s, coach, "GET", "/v1/requests?status=awaiting_approval", "", &waiting); len(waiting.Items) != 1 || waiting.Items[0].ID != held.ID {
		t.Fatalf("waiting requests: %+v; want only %s", waiting.Items, held.ID)
	}
	for _, action := range []string{"approve", "deny"} {
		if code := callAs(t, s, calm, "POST", "/v1/requests/"+held.ID+"/"+action, `{"reason":"not yours"}`, nil); code != http.StatusNotFound {
			t.Errorf("another studio's key: %s answers %d; want 404", action, code)
		}
	}
	time.Sleep(time.Second) // time in which a queued request would have run
	if n := countRows(t, app, graceChats); n != 1 {
		t.Fatalf("a held erasure changed data: %d chats left; want 1", n)
	}

	var approved reviewed
	if code := callAs(t, s, coach, "POST", "/v1/requests/"+held.ID+"/approve", "", &approved); code != http.StatusOK ||
		approved.Status != "pending" || approved.Review == nil || approved.Review.ApprovedBy == nil {
		t.Fatalf("approve: %d %+v", code, approved)
	}
	if st := s.waitDone(t, coach, held.ID); st != "completed" {
		t.Fatalf("approved erasure ended %s; want completed", st)
	}
	if n := countRows(t, app, graceChats); n != 0 {
		t.Errorf("after the approved erasure %d chats of Grace are left at Career Coach; want 0", n)
	}
	if code := callAs(t, s, coach, "POST", "/v1/requests/"+held.ID+"/approve", "", nil); code != http.StatusConflict {
		t.Errorf("approving a completed request: %d; want 409", code)
	}

	denySelfService(t, s, smtp, app)

	var free reviewed
	if code := callAs(t, s, calm, "POST", "/v1/requests", `{"type":"erasure","email":"katherine@example.com"}`, &free); code != http.StatusAccepted || free.Status != "pending" || free.Review != nil {
		t.Fatalf("ungated erasure: %d %+v; want pending and no review", code, free)
	}
	if code := callAs(t, s, calm, "POST", "/v1/requests/"+free.ID+"/approve", "", nil); code != http.StatusConflict {
		t.Errorf("approving a request that does not wait: %d; want 409", code)
	}
	if st := s.waitDone(t, calm, free.ID); st != "completed" {
		t.Errorf("ungated erasure ended %s; want completed", st)
	}
}

// denySelfService has Ada ask for her erasure at Career Coach herself; the
// verified request waits, the admin denies it with a reason, and the mail
// Ada gets says so while her chats stay.
func denySelfService(t *testing.T, s *demoServer, smtp *mailtest.Server, app *sqlstore.Store) {
	t.Helper()
	const email = "ada@example.com"
	adaChats := `SELECT count(*) FROM chats WHERE studio_id = 'career-coach' AND user_id = (SELECT id FROM users WHERE email = 'ada@example.com')`
	before := countRows(t, app, adaChats)
	var ticket struct{ ID string }
	if code := callAs(t, s, "", "POST", "/v1/self/requests", `{"type":"erasure","email":"`+email+`","tenant":"career-coach"}`, &ticket); code != http.StatusAccepted {
		t.Fatalf("self-service ask: %d", code)
	}
	code := smtp.Wait(t, email, "Your privacy request code", 10*time.Second).Code()
	var verified reviewed
	if st := callAs(t, s, "", "POST", "/v1/self/requests/"+ticket.ID+"/verify", `{"code":"`+code+`"}`, &verified); st != http.StatusOK || verified.Status != "awaiting_approval" {
		t.Fatalf("verify: %d %+v; want awaiting_approval", st, verified)
	}
	if st := s.call(t, "POST", "/v1/requests/"+ticket.ID+"/deny", `{"reason":"  "}`, nil); st != http.StatusUnprocessableEntity {
		t.Errorf("deny without a reason: %d; want 422", st)
	}
	const reason = "An open invoice dispute requires us to keep these records until it is settled"
	var denied reviewed
	if st := s.call(t, "POST", "/v1/requests/"+ticket.ID+"/deny", `{"reason":"`+reason+`"}`, &denied); st != http.StatusOK ||
		denied.Status != "denied" || denied.Error == nil || denied.Error.Message != reason {
		t.Fatalf("deny: %d %+v", st, denied)
	}
	mail := smtp.Wait(t, email, "could not be completed", 20*time.Second)
	if !strings.Contains(mail.Body, reason) || !strings.Contains(mail.Body, "declined") {
		t.Errorf("the denial mail does not carry the reason:\n%s", mail.Body)
	}
	if n := countRows(t, app, adaChats); n != before || n == 0 {
		t.Errorf("after the denial Ada has %d chats at Career Coach; want her %d untouched", n, before)
	}
	if st := s.call(t, "POST", "/v1/requests/"+ticket.ID+"/approve", "", nil); st != http.StatusConflict {
		t.Errorf("approving a denied request: %d; want 409", st)
	}
}

// demoKey issues a key of tenant through the admin API.
func demoKey(t *testing.T, s *demoServer, tenant string) string {
	t.Helper()
	var k struct{ Token string }
	if code := s.call(t, "POST", "/v1/tenants/"+tenant+"/keys", "", &k); code != http.StatusCreated || k.Token == "" {
		t.Fatalf("key of %s: %d", tenant, code)
	}
	return k.Token
}

// openDemoApp opens the demo application's own database.
func openDemoApp(t *testing.T, s *demoServer) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open("app", registry.DriverSQLite, filepath.Join(s.dir, "demo", "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countRows(t *testing.T, st *sqlstore.Store, query string) int64 {
	t.Helper()
	var n int64
	if err := st.DB().Raw(query).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
