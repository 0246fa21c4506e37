package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestPrivacyTour is the README's privacy step on the real binary: Calm
// Mind turns collection off (confirmation required), the responses sweep
// (every second here) purges its chats and messages and records a run of
// kind responses; a line of text is redacted through POST /v1/redact.
func TestPrivacyTour(t *testing.T) {
	s := startDemo(t, "--responses-sweep-every", "1s")
	path := "/v1/tenants/calm-mind/settings"
	if code := s.call(t, "PUT", path, `{"collect_responses":false}`, nil); code != 422 {
		t.Fatalf("PUT without confirmation: %d; want 422", code)
	}
	var st struct {
		CollectResponses bool `json:"collect_responses"`
	}
	if code := s.call(t, "PUT", path, `{"collect_responses":false,"confirm_purge":true}`, &st); code != 200 || st.CollectResponses {
		t.Fatalf("PUT with confirmation: %d %+v", code, st)
	}
	var policy struct {
		CollectResponses bool `json:"collect_responses"`
	}
	if s.call(t, "GET", "/v1/tenants/calm-mind/policy", "", &policy); policy.CollectResponses {
		t.Fatal("policy still says collect_responses: true")
	}
	type run struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
		Totals struct {
			RowsPurged int64 `json:"rows_purged"`
		} `json:"totals"`
	}
	var list struct {
		Items []run `json:"items"`
	}
	testkit.Eventually(t, 30*time.Second, "a completed responses run", func() error {
		if s.call(t, "GET", "/v1/retention/runs?kind=responses", "", &list); len(list.Items) == 0 || list.Items[0].Status != "completed" {
			return fmt.Errorf("runs %+v; log:\n%s", list.Items, s.stderr.String())
		}
		return nil
	})
	if r := list.Items[0]; r.Kind != "responses" || r.Totals.RowsPurged != 24 {
		t.Errorf("responses run %+v; want Calm Mind's 4 chats and 20 messages", r)
	}
	st2, err := sqlstore.Open("app", registry.DriverSQLite, filepath.Join(s.dir, "demo", "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var calm, coach int64
	st2.DB().Raw("SELECT count(*) FROM chats WHERE studio_id = 'calm-mind'").Scan(&calm)
	st2.DB().Raw("SELECT count(*) FROM chats WHERE studio_id = 'career-coach'").Scan(&coach)
	if calm != 0 || coach != 3 {
		t.Errorf("chats left: calm-mind %d, career-coach %d; want 0 and 3", calm, coach)
	}

	var red struct {
		Text  string `json:"text"`
		Spans []struct {
			Kind string `json:"kind"`
		} `json:"spans"`
	}
	body := `{"tenant":"career-coach","text":"Ada (ada@example.com) will call +44 20 7946 0958","known":["Ada"]}`
	if code := s.call(t, "POST", "/v1/redact", body, &red); code != 200 || len(red.Spans) != 3 ||
		strings.Contains(red.Text, "ada@") || !strings.Contains(red.Text, "<email:") {
		t.Fatalf("POST /v1/redact: %d %+v", code, red)
	}
}
