package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// withRetention adds the retention routes' services to b's server, over
// the demo application seeded at t0, with a queue that works sweeps, and
// returns the Sweeper (whose store "app" is the demo's database).
func withRetention(t *testing.T, b *bundle) *retention.Sweeper {
	t.Helper()
	ctx := context.Background()
	d, err := demo.SeedAt(ctx, t.TempDir(), t0)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse(d.Registry("LETHE_API_TEST_DEMO_DB_UNUSED"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open("app", registry.DriverSQLite, d.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hasher := dsr.NewSubjectHasher([]byte(subjectKey))
	audit := &state.AuditLog{DB: b.db}
	runs := &state.RetentionRuns{DB: b.db, Audit: audit, Subject: hasher}
	holds, settings := &state.Holds{DB: b.db, Audit: audit}, &state.TenantSettings{DB: b.db, Audit: audit}
	keys, err := redact.NewKeyring([]byte(subjectKey))
	if err != nil {
		t.Fatal(err)
	}
	sw := &retention.Sweeper{Registry: reg, Stores: map[string]retention.Store{"app": st},
		Engine: engine.New(reg, map[string]connector.Store{"app": st}, hasher), Runs: runs, Holds: holds,
		Settings: settings, Now: b.clock.Now, Pause: -1, Logger: b.logger, Redactors: keys}
	q, err := queue.New(ctx, queue.Config{DB: b.db, Logger: b.logger, PollInterval: 50 * time.Millisecond,
		Runner: &dsr.Runner{Logger: b.logger, Now: b.clock.Now},
		Sweep: func(ctx context.Context, id string) error {
			_, err := sw.Run(ctx, retention.Options{ID: id})
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	runs.Enqueue = q.EnqueueRetention
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	b.srv.Retention, b.srv.Holds, b.srv.Settings, b.srv.Registry = runs, holds, settings, reg
	b.srv.LastSweep = runs.LastFinished
	if b.srv.Subject == nil {
		b.srv.Subject = hasher
	}
	b.srv.Redactors = keys
	return sw
}

type runBody struct {
	ID     string            `json:"id"`
	Status string            `json:"status"`
	DryRun bool              `json:"dry_run"`
	Counts []retention.Count `json:"counts"`
	Totals retention.Count   `json:"totals"`
	Error  *dsr.Error        `json:"error"`
}

func TestRetentionRunsThroughTheAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		_, key := b.tenantKey(t, "calm-mind")
		wantError(t, b.do(t, "POST", "/v1/retention/runs", key, `{"dry_run":true}`), http.StatusForbidden, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "POST", "/v1/retention/runs", adminToken, `{"dry":true}`), http.StatusBadRequest, dsr.EINVALID)

		q := decode[runBody](t, b.do(t, "POST", "/v1/retention/runs", adminToken, `{"dry_run":true}`), http.StatusAccepted)
		dry := waitRun(t, b, q.ID)
		// The demo at t0: 3 chats older than 30 days, their 14 messages,
		// and 2 uploads older than 7 days.
		if !dry.DryRun || dry.Totals.RowsPurged != 19 || dry.Error != nil {
			t.Fatalf("dry run: %+v", dry)
		}
		real := waitRun(t, b, decode[runBody](t, b.do(t, "POST", "/v1/retention/runs", adminToken, ""), http.StatusAccepted).ID)
		if real.DryRun || real.Totals.RowsPurged != 19 || real.Totals.FilesPending != 2 {
			t.Fatalf("real run: %+v", real)
		}
		page := decode[struct {
			Items      []runBody `json:"items"`
			NextCursor *string   `json:"next_cursor"`
		}](t, b.do(t, "GET", "/v1/retention/runs?limit=1", adminToken, ""), http.StatusOK)
		if len(page.Items) != 1 || page.Items[0].ID != real.ID || page.NextCursor == nil {
			t.Fatalf("first page: %+v", page)
		}
		next := decode[struct {
			Items []runBody `json:"items"`
		}](t, b.do(t, "GET", "/v1/retention/runs?limit=1&cursor="+*page.NextCursor, adminToken, ""), http.StatusOK)
		if len(next.Items) != 1 || next.Items[0].ID != dry.ID {
			t.Fatalf("second page: %+v", next)
		}
		wantError(t, b.do(t, "GET", "/v1/retention/runs/nope", adminToken, ""), http.StatusNotFound, dsr.ENOTFOUND)
	})
}

func waitRun(t *testing.T, b *bundle, id string) runBody {
	t.Helper()
	var r runBody
	testkit.Eventually(t, 30*time.Second, "run "+id+" ended", func() error {
		r = decode[runBody](t, b.do(t, "GET", "/v1/retention/runs/"+id, adminToken, ""), http.StatusOK)
		if r.Status != "completed" && r.Status != "failed" {
			return fmt.Errorf("still %s", r.Status)
		}
		return nil
	})
	return r
}

func TestTenantSettingsAndPolicy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		_, calm := b.tenantKey(t, "calm-mind")
		_, coach := b.tenantKey(t, "career-coach")
		path := "/v1/tenants/calm-mind/settings"
		wantError(t, b.do(t, "GET", path, coach, ""), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "PUT", path, coach, `{"retention":{}}`), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "GET", "/v1/tenants/calm-mind/policy", coach, ""), http.StatusNotFound, dsr.ENOTFOUND)
		msg := wantError(t, b.do(t, "PUT", path, calm, `{"retention":{"app.chats":"60d"}}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		if !strings.Contains(msg, "app.chats") || !strings.Contains(msg, "30d") {
			t.Errorf("longer window: %q; want the collection and the registry's window", msg)
		}
		wantError(t, b.do(t, "PUT", path, calm, `{"retention":{"app.chat":"1d"}}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "PUT", path, calm, `{"retention":{"app.users":"1d"}}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		got := decode[retention.Settings](t, b.do(t, "PUT", path, calm, `{"retention":{"app.chats":"7d"}}`), http.StatusOK)
		if got.Retention["app.chats"] != "1w" || got.UpdatedBy == "" {
			t.Fatalf("PUT settings: %+v", got)
		}
		if got := decode[retention.Settings](t, b.do(t, "GET", path, adminToken, ""), http.StatusOK); got.Retention["app.chats"] != "1w" {
			t.Fatalf("admin GET settings: %+v", got)
		}
		policy := decode[struct {
			Collections []retention.Rule `json:"collections"`
		}](t, b.do(t, "GET", "/v1/tenants/calm-mind/policy", calm, ""), http.StatusOK)
		rules := map[string]retention.Rule{}
		for _, r := range policy.Collections {
			rules[r.Collection] = r
		}
		if r := rules["app.chats"]; r.Window != "1w" || r.Source != "tenant" || r.RegistryWindow != "30d" || !r.Responses {
			t.Errorf("calm-mind chats rule: %+v", r)
		}
		other := decode[struct {
			Collections []retention.Rule `json:"collections"`
		}](t, b.do(t, "GET", "/v1/tenants/career-coach/policy", coach, ""), http.StatusOK)
		for _, r := range other.Collections {
			if r.Collection == "app.chats" && (r.Window != "30d" || r.Source != "registry") {
				t.Errorf("career-coach chats rule: %+v; the other tenant's override must not apply", r)
			}
		}
	})
}

func TestLegalHoldsThroughTheAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		_, key := b.tenantKey(t, "calm-mind")
		body := `{"email":"Ada@example.com","reason":"claim 2025-17"}`
		wantError(t, b.do(t, "POST", "/v1/holds", key, body), http.StatusForbidden, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "POST", "/v1/holds", adminToken, `{"reason":"x"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "POST", "/v1/holds", adminToken, `{"tenant":"calm-mind"}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		r := b.do(t, "POST", "/v1/holds", adminToken, body)
		h := decode[retention.Hold](t, r, http.StatusCreated)
		if h.Subject == "" || strings.Contains(strings.ToLower(string(r.body)), "ada@") {
			t.Fatalf("hold answer %s: want the subject hash and no email", r.body)
		}
		// A sweep keeps Ada's expired chat and its messages.
		run := waitRun(t, b, decode[runBody](t, b.do(t, "POST", "/v1/retention/runs", adminToken, ""), http.StatusAccepted).ID)
		if run.Totals.RowsHeld == 0 || run.Totals.RowsPurged >= 19 {
			t.Errorf("sweep under a hold on Ada: %+v; want rows held and fewer purged than 19", run.Totals)
		}
		list := decode[struct {
			Items []retention.Hold `json:"items"`
		}](t, b.do(t, "GET", "/v1/holds?active=true", adminToken, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].ID != h.ID {
			t.Fatalf("active holds: %+v", list.Items)
		}
		rel := decode[retention.Hold](t, b.do(t, "DELETE", "/v1/holds/"+h.ID, adminToken, ""), http.StatusOK)
		if rel.ReleasedAt == nil {
			t.Errorf("released hold: %+v", rel)
		}
		wantError(t, b.do(t, "DELETE", "/v1/holds/"+h.ID, adminToken, ""), http.StatusConflict, dsr.ECONFLICT)
		seen := map[string]bool{}
		for _, e := range b.auditEntries(t) {
			seen[e.Action] = true
			if strings.Contains(strings.ToLower(string(e.Details)), "ada@") || (e.Action == "hold.created" && e.Subject != h.Subject) {
				t.Errorf("audit entry %s: %s / %s", e.Action, e.Subject, e.Details)
			}
		}
		for _, a := range []string{"hold.created", "hold.released", "retention.queued", "retention.completed"} {
			if !seen[a] {
				t.Errorf("no %s audit entry", a)
			}
		}
	})
}
