package retention_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// TestHeldSubjectErasureIsDenied files an erasure for a held person: the
// runner denies it and nothing is deleted; once the hold is released a new
// erasure completes.
func TestHeldSubjectErasureIsDenied(t *testing.T) {
	f := newFixture(t, "sqlite", "")
	h := f.hold(t, "", "Alice@Example.com")
	requests, runs, runner := f.requestRunner()
	erase := func() *dsr.Request {
		r, _, err := requests.Create(context.Background(), dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Run(context.Background(), r.ID, true); err != nil {
			t.Fatal(err)
		}
		if r, err = runs.Load(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := erase()
	if r.Status != dsr.StatusDenied || r.Err == nil || !strings.Contains(r.Err.Message, h.ID) {
		t.Fatalf("erasure under hold: %s %+v; want denied naming hold %s", r.Status, r.Err, h.ID)
	}
	if ids := f.ids(t, "chats"); len(ids) != len(chats) {
		t.Fatalf("a denied erasure deleted chats: %v left", ids)
	}
	if _, err := f.parts.holds.ReleaseHold(context.Background(), "admin", h.ID); err != nil {
		t.Fatal(err)
	}
	if r := erase(); r.Status != dsr.StatusCompleted {
		t.Fatalf("erasure after release: %s %+v; want completed", r.Status, r.Err)
	}
	if ids := f.ids(t, "users"); strings.Join(ids, ",") != "2,3" {
		t.Errorf("users left %v; want 2,3", ids)
	}
}

func TestHoldCovers(t *testing.T) {
	h := dsr.NewSubjectHasher([]byte(subjectKey))
	alice, bob := h.Subject("alice@example.com"), h.Subject("bob@example.com")
	released := time.Now()
	for _, tc := range []struct {
		name    string
		hold    retention.Hold
		subject dsr.Subject
		tenant  string
		want    bool
	}{
		{"subject, any tenant", retention.Hold{Subject: alice}, alice, "s1", true},
		{"other subject", retention.Hold{Subject: alice}, bob, "", false},
		{"subject in its tenant", retention.Hold{Subject: alice, Tenant: "s1"}, alice, "s1", true},
		{"subject in another tenant", retention.Hold{Subject: alice, Tenant: "s1"}, alice, "s2", false},
		{"subject, erasure across tenants", retention.Hold{Subject: alice, Tenant: "s1"}, alice, "", true},
		{"tenant hold, its tenant", retention.Hold{Tenant: "s1"}, bob, "s1", true},
		{"tenant hold, erasure across tenants", retention.Hold{Tenant: "s1"}, bob, "", true},
		{"tenant hold, other tenant", retention.Hold{Tenant: "s1"}, bob, "s2", false},
		{"released", retention.Hold{Subject: alice, ReleasedAt: &released}, alice, "", false},
	} {
		if got := tc.hold.Covers(tc.subject, tc.tenant); got != tc.want {
			t.Errorf("%s: Covers = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckOverrides(t *testing.T) {
	f := newFixture(t, "sqlite", "")
	for _, tc := range []struct {
		name string
		in   map[string]string
		want string // "" for ok, else a part of the error
	}{
		{"shorter", map[string]string{"app.chats": "7d", "app.uploads": "12h"}, ""},
		{"equal", map[string]string{"app.chats": "30d"}, ""},
		{"longer", map[string]string{"app.chats": "31d"}, "retention.app.chats: 31d is longer than the registry's 30d"},
		{"never", map[string]string{"app.uploads": "never"}, "longer than the registry's"},
		{"unknown collection", map[string]string{"app.chat": "1d"}, "retention.app.chat: unknown collection"},
		{"no rule", map[string]string{"app.users": "1d"}, "no retention rule"},
		{"bad window", map[string]string{"app.chats": "soon"}, `window "soon"`},
		{"no tenant reach (messages hang from chats)", map[string]string{"app.messages": "1d"}, ""},
	} {
		_, err := retention.CheckOverrides(f.reg, tc.in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (dsr.ErrorCode(err) != dsr.EUNPROCESSABLE || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v; want unprocessable with %q", tc.name, err, tc.want)
		}
	}
}

// TestTenantHoldDeniesOnlyErasuresThatTouchTheTenant places a hold on
// tenant s3: an erasure across all tenants of Alice, who has nothing in s3,
// completes; one of Bob, who has a chat in s3, is denied. A subject hold
// placed after Carol's erasure started does not stop it half-way.
func TestTenantHoldDeniesOnlyErasuresThatTouchTheTenant(t *testing.T) {
	f := newFixture(t, "sqlite", "")
	h := f.hold(t, "s3", "")
	requests, runs, runner := f.requestRunner()
	ctx := context.Background()
	file := func(email string) string {
		r, _, err := requests.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: email})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	run := func(id string) *dsr.Request {
		if err := runner.Run(ctx, id, true); err != nil {
			t.Fatal(err)
		}
		r, err := runs.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(file("alice@example.com")); r.Status != dsr.StatusCompleted {
		t.Errorf("Alice (nothing in s3) under a hold on s3: %s %+v; want completed", r.Status, r.Err)
	}
	if r := run(file("bob@example.com")); r.Status != dsr.StatusDenied || !strings.Contains(r.Err.Message, h.ID) {
		t.Errorf("Bob (a chat in s3) under a hold on s3: %s %+v; want denied naming the hold", r.Status, r.Err)
	}

	id := file("carol@example.com")
	// An earlier attempt got as far as journaling a step, then the worker died.
	if _, j, err := runs.Start(ctx, id, t0); err != nil {
		t.Fatal(err)
	} else if err := j.SaveStep(ctx, dsr.Step{Name: "attempt before the hold", Status: "done"}); err != nil {
		t.Fatal(err)
	}
	f.hold(t, "", "carol@example.com")
	if r := run(id); r.Status != dsr.StatusCompleted {
		t.Errorf("Carol's erasure, started before her hold: %s %+v; want completed, not left half-erased", r.Status, r.Err)
	}
}
