package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/retention"
)

type policyBody struct {
	CollectResponses bool `json:"collect_responses"`
	ObfuscateHistory bool `json:"obfuscate_history"`
	Responses        struct {
		Store       bool     `json:"store"`
		Collections []string `json:"collections"`
		PurgeEvery  string   `json:"purge_every"`
	} `json:"responses"`
	History struct {
		Obfuscate bool   `json:"obfuscate"`
		Via       string `json:"via"`
	} `json:"history"`
	Collections []retention.Rule `json:"collections"`
}

// demoRows returns each row of a demo table as text, keyed by id, for the
// chats of studio (with their messages and uploads).
func demoRows(t *testing.T, sw *retention.Sweeper, table, studio string) map[string]string {
	t.Helper()
	db := sw.Stores["app"].(*sqlstore.Store).DB()
	q := "SELECT id, studio_id || '|' || user_id || '|' || coalesce(title, '') || '|' || created_at FROM chats WHERE studio_id = ?"
	switch table {
	case "messages":
		q = "SELECT m.id, m.chat_id || '|' || m.role || '|' || m.body || '|' || m.created_at FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.studio_id = ?"
	case "uploads":
		q = "SELECT u.id, u.chat_id || '|' || u.storage_key || '|' || u.filename FROM uploads u JOIN chats c ON c.id = u.chat_id WHERE c.studio_id = ?"
	}
	rows, err := db.Raw(q, studio).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		out[id] = v
	}
	return out
}

// TestCollectResponsesOff: turning collection off needs a confirmation;
// once off, the policy says so and the responses sweep (its periodic work
// triggered directly) purges calm-mind's chats and messages and nothing of
// career-coach; the run is listed as a responses run and audited.
func TestCollectResponsesOff(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		sw := withRetention(t, b)
		_, calm := b.tenantKey(t, "calm-mind")
		_, coach := b.tenantKey(t, "career-coach")
		path := "/v1/tenants/calm-mind/settings"
		st := decode[retention.Settings](t, b.do(t, "GET", path, calm, ""), http.StatusOK)
		if !st.CollectResponses || st.ObfuscateHistory {
			t.Fatalf("defaults: %+v; want collect_responses true, obfuscate_history false", st)
		}
		decode[retention.Settings](t, b.do(t, "PUT", path, calm, `{"retention":{"app.chats":"7d"}}`), http.StatusOK)
		msg := wantError(t, b.do(t, "PUT", path, calm, `{"collect_responses":false}`), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		for _, want := range []string{"confirm_purge", "app.chats", "app.messages", "app.uploads", "1m0s"} {
			if !strings.Contains(msg, want) {
				t.Errorf("confirmation message %q lacks %q", msg, want)
			}
		}
		wantError(t, b.do(t, "PUT", path, coach, `{"collect_responses":false,"confirm_purge":true}`), http.StatusNotFound, dsr.ENOTFOUND)
		if n := len(demoRows(t, sw, "chats", "calm-mind")); n != 4 {
			t.Fatalf("calm-mind has %d chats before; the demo seeds 4", n)
		}
		coachBefore := map[string]map[string]string{}
		for _, table := range []string{"chats", "messages", "uploads"} {
			coachBefore[table] = demoRows(t, sw, table, "career-coach")
		}

		st = decode[retention.Settings](t, b.do(t, "PUT", path, calm, `{"collect_responses":false,"confirm_purge":true}`), http.StatusOK)
		if st.CollectResponses || st.Retention["app.chats"] != "1w" {
			t.Fatalf("after PUT: %+v; want collection off and the override kept", st)
		}
		// Already off: no confirmation needed to send it again.
		decode[retention.Settings](t, b.do(t, "PUT", path, calm, `{"collect_responses":false}`), http.StatusOK)
		p := decode[policyBody](t, b.do(t, "GET", "/v1/tenants/calm-mind/policy", calm, ""), http.StatusOK)
		if p.CollectResponses || p.Responses.Store || strings.Join(p.Responses.Collections, ",") != "app.chats,app.messages,app.uploads" || p.Responses.PurgeEvery != "1m0s" {
			t.Errorf("calm-mind policy: %+v", p)
		}
		if p := decode[policyBody](t, b.do(t, "GET", "/v1/tenants/career-coach/policy", coach, ""), http.StatusOK); !p.CollectResponses {
			t.Errorf("career-coach policy says collection is off")
		}

		run, err := sw.RunResponses(context.Background(), retention.Options{Trigger: retention.TriggerSchedule, Actor: "schedule"})
		if err != nil || run == nil {
			t.Fatalf("responses sweep: %+v %v", run, err)
		}
		for _, table := range []string{"chats", "messages", "uploads"} {
			if left := demoRows(t, sw, table, "calm-mind"); len(left) != 0 {
				t.Errorf("calm-mind %s left after the sweep: %v", table, left)
			}
			after := demoRows(t, sw, table, "career-coach")
			if len(after) != len(coachBefore[table]) {
				t.Errorf("career-coach %s: %d rows before, %d after", table, len(coachBefore[table]), len(after))
			}
			for id, row := range coachBefore[table] {
				if after[id] != row {
					t.Errorf("career-coach %s row %s changed: %q → %q", table, id, row, after[id])
				}
			}
		}
		list := decode[struct {
			Items []runBody `json:"items"`
		}](t, b.do(t, "GET", "/v1/retention/runs?kind=responses", adminToken, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].ID != run.ID || list.Items[0].Totals.RowsPurged != 4+20 {
			t.Fatalf("responses runs: %+v; want the one run with 4 chats and 20 messages purged", list.Items)
		}
		var kind struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(b.do(t, "GET", "/v1/retention/runs/"+run.ID, adminToken, "").body, &kind); kind.Kind != "responses" {
			t.Errorf("run kind %q", kind.Kind)
		}
		if empty := decode[struct {
			Items []runBody `json:"items"`
		}](t, b.do(t, "GET", "/v1/retention/runs?kind=retention", adminToken, ""), http.StatusOK); len(empty.Items) != 0 {
			t.Errorf("retention runs listed: %+v", empty.Items)
		}
		wantError(t, b.do(t, "GET", "/v1/retention/runs?kind=other", adminToken, ""), http.StatusBadRequest, dsr.EINVALID)
		seen := map[string]bool{}
		for _, e := range b.auditEntries(t) {
			seen[e.Action] = true
		}
		for _, a := range []string{"settings.updated", "settings.collect_responses.disabled", "retention.responses.completed"} {
			if !seen[a] {
				t.Errorf("no audit entry %s", a)
			}
		}
	})
}

// TestRedactEndpoint: POST /v1/redact gives stable pseudonyms per tenant,
// different ones across tenants, takes a tenant key's own tenant, and
// refuses another's; obfuscate_history makes the policy point at it.
func TestRedactEndpoint(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		_, calm := b.tenantKey(t, "calm-mind")
		type answer struct {
			Tenant string `json:"tenant"`
			Text   string `json:"text"`
			Spans  []struct {
				Kind  string `json:"kind"`
				Start int    `json:"start"`
				End   int    `json:"end"`
				Token string `json:"token"`
			} `json:"spans"`
		}
		text := "Ada (ada@example.com) says call +44 20 7946 0958"
		body := func(tenant string, known ...string) string {
			raw, _ := json.Marshal(map[string]any{"text": text, "tenant": tenant, "known": known})
			return string(raw)
		}
		a := decode[answer](t, b.do(t, "POST", "/v1/redact", calm, body("", "Ada")), http.StatusOK)
		a2 := decode[answer](t, b.do(t, "POST", "/v1/redact", adminToken, body("calm-mind", "Ada")), http.StatusOK)
		c := decode[answer](t, b.do(t, "POST", "/v1/redact", adminToken, body("career-coach", "Ada")), http.StatusOK)
		if a.Tenant != "calm-mind" || len(a.Spans) != 3 || a.Text != a2.Text {
			t.Fatalf("calm-mind: %+v, then %+v; want three spans, the same text twice", a, a2)
		}
		if a.Text == c.Text || strings.Contains(a.Text, "ada@example.com") || strings.Contains(a.Text, "7946") {
			t.Errorf("redacted %q (career-coach %q): want values gone and tenants apart", a.Text, c.Text)
		}
		for _, sp := range a.Spans {
			if !strings.Contains(a.Text, sp.Token) || sp.End <= sp.Start || sp.End > len(text) {
				t.Errorf("span %+v", sp)
			}
		}
		keys, _ := redact.NewKeyring([]byte(subjectKey))
		if want := keys.For("calm-mind").Pseudonym(redact.Email, "ada@example.com"); !strings.Contains(a.Text, want) {
			t.Errorf("%q lacks the sweep's pseudonym %s: the endpoint and the redact action must agree", a.Text, want)
		}
		wantError(t, b.do(t, "POST", "/v1/redact", calm, body("career-coach")), http.StatusForbidden, dsr.EFORBIDDEN)
		wantError(t, b.do(t, "POST", "/v1/redact", adminToken, body("")), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, b.do(t, "POST", "/v1/redact", calm, `{"text":1}`), http.StatusBadRequest, dsr.EINVALID)
		big := fmt.Sprintf(`{"text":%q}`, strings.Repeat("a", 70<<10))
		wantError(t, b.do(t, "POST", "/v1/redact", calm, big), http.StatusRequestEntityTooLarge, dsr.ETOOLARGE)
		if strings.Contains(b.logs.String(), "ada@example.com") {
			t.Error("the log holds a redacted value")
		}

		path := "/v1/tenants/calm-mind/settings"
		if st := decode[retention.Settings](t, b.do(t, "PUT", path, calm, `{"obfuscate_history":true}`), http.StatusOK); !st.ObfuscateHistory || !st.CollectResponses {
			t.Fatalf("after obfuscate_history: %+v", st)
		}
		p := decode[policyBody](t, b.do(t, "GET", "/v1/tenants/calm-mind/policy", calm, ""), http.StatusOK)
		if !p.ObfuscateHistory || !p.History.Obfuscate || p.History.Via != "POST /v1/redact" {
			t.Errorf("policy: %+v", p)
		}
		for _, r := range p.Collections {
			if r.Collection == "app.messages" && r.RedactAfter != "1w" {
				t.Errorf("messages rule %+v: want redact_after 1w", r)
			}
		}
	})
}

// TestRedactEndpointKnownPeople: once a tenant's dictionary of known
// people is set on the keyring, POST /v1/redact hides their names without
// known, in that tenant only.
func TestRedactEndpointKnownPeople(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		b.srv.Redactors.SetPeople("career-coach", redact.NewPeople([]string{"Grace Hopper"}, 0))
		type answer struct {
			Text  string `json:"text"`
			Spans []struct {
				Kind string `json:"kind"`
			} `json:"spans"`
		}
		body := `{"tenant":"%s","text":"Hi, I'm Grace Hopper; G. Hopper signs, by the grace of the board"}`
		a := decode[answer](t, b.do(t, "POST", "/v1/redact", adminToken, fmt.Sprintf(body, "career-coach")), http.StatusOK)
		want := b.srv.Redactors.For("career-coach").Pseudonym(redact.Name, "Grace Hopper")
		if len(a.Spans) != 2 || a.Spans[0].Kind != "name" || strings.Count(a.Text, want) != 2 || !strings.Contains(a.Text, "by the grace of") {
			t.Errorf("career-coach: %+v; want both mentions as %s and the common word kept", a, want)
		}
		c := decode[answer](t, b.do(t, "POST", "/v1/redact", adminToken, fmt.Sprintf(body, "calm-mind")), http.StatusOK)
		if len(c.Spans) != 0 {
			t.Errorf("calm-mind, which has no dictionary: %+v", c)
		}
	})
}
