package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequestCLIGate files requests with lethe request on the demo's state
// store: with Career Coach's settings requiring approval, the erasure waits
// in awaiting_approval with its plan, as one filed on the API does, and
// is approved on the API; lethe plan refuses a studio nobody registered
// and plans within a registered one.
func TestRequestCLIGate(t *testing.T) {
	s := startDemo(t)
	reg := filepath.Join(s.dir, "demo", "lethe.yaml")
	env := []string{"DEMO_APP_DB=" + filepath.Join(s.dir, "demo", "app.db"), "LETHE_CONFIG=" + reg}
	if code := s.call(t, "PUT", "/v1/tenants/career-coach/settings", `{"approval":{"erasure":true}}`, nil); code != http.StatusOK {
		t.Fatalf("require approval: %d", code)
	}
	out, errOut, code := s.letheSplit(t, env, "request", "--type", "erasure", "--email", "grace@example.com", "--tenant", "career-coach")
	var r struct{ ID, Status string }
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("lethe request: exit %d: %s%s", code, out, errOut)
	}
	if r.Status != "awaiting_approval" {
		t.Fatalf("lethe request with approval required: status %q, want awaiting_approval", r.Status)
	}
	var held reviewed
	if code := s.call(t, "GET", "/v1/requests/"+r.ID, "", &held); code != http.StatusOK || held.Review == nil || held.Review.Plan.Total == 0 {
		t.Fatalf("the held request on the API: %d %+v; want its plan attached", code, held)
	}
	if code := s.call(t, "POST", "/v1/requests/"+r.ID+"/approve", "", nil); code != http.StatusOK {
		t.Fatalf("approve the CLI's request: %d", code)
	}
	// Calm Mind requires nothing: its request is queued at once.
	out, _, code = s.letheSplit(t, env, "request", "--type", "access", "--email", "grace@example.com", "--tenant", "calm-mind")
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Status != "pending" {
		t.Fatalf("lethe request without a gate: exit %d: %s", code, out)
	}

	out, errOut, code = s.letheSplit(t, env, "plan", "--email", "grace@example.com", "--tenant", "no-such-studio")
	if code == 0 || !strings.Contains(errOut, "tenant no-such-studio: not a registered tenant") {
		t.Fatalf("lethe plan for an unregistered studio: exit %d: %s%s", code, out, errOut)
	}
	out, errOut, code = s.letheSplit(t, env, "plan", "--email", "grace@example.com", "--tenant", "career-coach")
	if code != 0 || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("lethe plan within Career Coach: exit %d: %s%s", code, out, errOut)
	}
}
