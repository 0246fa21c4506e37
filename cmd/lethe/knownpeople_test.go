package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestKnownPeopleOnDemo: POST /v1/redact on the demo hides each studio's
// own people without known (Grace and Ada use career-coach, Alan only
// calm-mind), keeps common words, and once Ada's erasure completes she is
// no longer in the dictionary.
func TestKnownPeopleOnDemo(t *testing.T) {
	s := startDemo(t)
	const text = "Hi, I'm Grace Hopper. G. Hopper met Alan Turing and Ada Lovelace; by the grace of god, I will. Will you? Hope so."
	redactFor := func(tenant string) string {
		var out struct {
			Text string `json:"text"`
		}
		body, _ := json.Marshal(map[string]string{"tenant": tenant, "text": text})
		if code := s.call(t, "POST", "/v1/redact", string(body), &out); code != 200 {
			t.Fatalf("POST /v1/redact for %s: %d", tenant, code)
		}
		return out.Text
	}
	testkit.Eventually(t, 30*time.Second, "career-coach's people known", func() error {
		if got := redactFor("career-coach"); strings.Contains(got, "Grace Hopper") {
			return fmt.Errorf("still in clear: %s", got)
		}
		return nil
	})
	cc := redactFor("career-coach")
	for _, gone := range []string{"Grace Hopper", "G. Hopper", "Ada Lovelace"} {
		if strings.Contains(cc, gone) {
			t.Errorf("career-coach: %q in clear in %s", gone, cc)
		}
	}
	for _, kept := range []string{"Alan Turing", "by the grace of god, I will. Will you? Hope so."} {
		if !strings.Contains(cc, kept) {
			t.Errorf("career-coach: %q replaced in %s (another studio's person, or common words)", kept, cc)
		}
	}
	cm := redactFor("calm-mind")
	if strings.Contains(cm, "Alan Turing") || !strings.Contains(cm, "Grace Hopper") {
		t.Errorf("calm-mind: %s; want Alan Turing hidden and Grace Hopper, not one of its people, as written", cm)
	}

	var req struct {
		ID string `json:"id"`
	}
	if code := s.call(t, "POST", "/v1/requests", `{"type":"erasure","email":"ada@example.com"}`, &req); code != 202 {
		t.Fatalf("erasure of Ada: %d", code)
	}
	testkit.Eventually(t, 60*time.Second, "Ada's erasure completed", func() error {
		var r struct {
			Status string `json:"status"`
		}
		if s.call(t, "GET", "/v1/requests/"+req.ID, "", &r); r.Status != "completed" {
			return fmt.Errorf("status %s", r.Status)
		}
		return nil
	})
	// The incremental walk only adds people, and the rebuild is an hour
	// away: only the end of the erasure can have dropped her.
	after := redactFor("career-coach")
	if !strings.Contains(after, "Ada Lovelace") || strings.Contains(after, "Grace Hopper") {
		t.Errorf("after Ada's erasure: %s; want Ada no longer known, Grace still hidden", after)
	}
}
