package state_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRehashSubjects: rows filed under the subject of the former
// derivation (the secret itself as HMAC key) that still hold their email,
// an open request and an active hold, move to the derived audit subject,
// so the hold still covers a request filed now; an ended request, which
// no longer has the email, keeps what the audit trail recorded.
func TestRehashSubjects(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		const email = "old.hold@example.com"
		legacy := string(b.hasher.Legacy(email))
		open := b.create(t, admin, dsr.TypeErasure, email, "")
		ended := b.create(t, admin, dsr.TypeErasure, email, "")
		if _, err := b.requests.Cancel(ctx, admin, ended.ID, "no longer wanted"); err != nil {
			t.Fatal(err)
		}
		holds := &state.Holds{DB: b.db, Audit: b.audit}
		hold, err := holds.CreateHold(ctx, "admin", &retention.Hold{Subject: dsr.Subject(legacy), Email: email, Reason: "litigation"})
		if err != nil {
			t.Fatal(err)
		}
		b.exec(t, "UPDATE lethe_requests SET subject = ?", legacy)
		later := b.create(t, admin, dsr.TypeErasure, email, "")
		// A hold that holds its email covers a request of that email
		// whatever key or derivation made either subject.
		if on, err := holds.HoldsOn(ctx, later); err != nil || len(on) != 1 || on[0].ID != hold.ID {
			t.Fatalf("before the rehash the legacy hold covers %v, %v; want the new request covered by its email", on, err)
		}
		n, err := state.RehashSubjects(ctx, b.db, b.hasher)
		if err != nil || n != 2 {
			t.Fatalf("rehashed %d rows, %v; want the open request and the hold", n, err)
		}
		if n, err := state.RehashSubjects(ctx, b.db, b.hasher); err != nil || n != 0 {
			t.Errorf("a second rehash changed %d rows, %v", n, err)
		}
		want := string(b.hasher.Subject(email))
		if got := b.count(t, "lethe_requests", "id = ? AND subject = ?", open.ID, want); got != 1 {
			t.Error("the open request keeps the legacy subject")
		}
		if got := b.count(t, "lethe_requests", "id = ? AND subject = ?", ended.ID, legacy); got != 1 {
			t.Error("the ended request's subject changed")
		}
		on, err := holds.HoldsOn(ctx, later)
		if err != nil || len(on) != 1 || on[0].ID != hold.ID {
			t.Errorf("after the rehash the hold covers %v, %v; want the new request covered", on, err)
		}
	})
}
