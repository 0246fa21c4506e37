package state_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// keyUse returns how many rows of kind KeyUses counts under key id.
func keyUse(t *testing.T, b *bundle, kind, id string) int64 {
	t.Helper()
	uses, err := state.KeyUses(context.Background(), b.db, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range uses {
		if u.Kind == kind && u.KeyID == id {
			return u.Rows
		}
	}
	return 0
}

// TestKeyUsesAcrossASubjectKeyRotation: requests record the fingerprint
// of the subject key they were hashed with; after a rotation the open
// ones, which hold their email, move to the new key with RehashSubjects,
// and KeyUses counts none left on the old one. Rows recorded before
// fingerprints were kept are stamped with the current key when no
// rotation is under way, and left unrecorded during one.
func TestKeyUsesAcrossASubjectKeyRotation(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		oldID := b.hasher.KeyID()
		open := b.create(t, admin, dsr.TypeErasure, "open.person@example.com", "")
		if got := keyUse(t, b, state.KindOpenRequests, oldID); got != 1 {
			t.Fatalf("open requests on the old key before the rotation: %d; want 1", got)
		}
		rotated := dsr.NewSubjectHasher([]byte("state-test-rotated-subject-key-0123456789")).WithPrevious([]byte(subjectKey))
		if n, err := state.RehashSubjects(ctx, b.db, rotated); err != nil || n != 1 {
			t.Fatalf("rehash after the rotation: %d rows, %v; want the open request", n, err)
		}
		if got := keyUse(t, b, state.KindOpenRequests, oldID); got != 0 {
			t.Errorf("open requests left on the old key after the rehash: %d", got)
		}
		if got := keyUse(t, b, state.KindOpenRequests, rotated.KeyID()); got != 1 {
			t.Errorf("open requests on the new key after the rehash: %d; want 1", got)
		}
		if got := b.count(t, "lethe_requests", "id = ? AND subject = ?", open.ID, string(rotated.Subject("open.person@example.com"))); got != 1 {
			t.Error("the open request's subject is not the new key's")
		}

		// A row from before fingerprints: unrecorded during the rotation,
		// stamped once the rotation is over.
		b.exec(t, "UPDATE lethe_requests SET subject_key = NULL, email = NULL WHERE id = ?", open.ID)
		if _, err := state.RehashSubjects(ctx, b.db, rotated); err != nil {
			t.Fatal(err)
		}
		if got := keyUse(t, b, state.KindOpenRequests, ""); got != 1 {
			t.Errorf("an unrecorded row during a rotation is counted %d times as unrecorded; want 1", got)
		}
		done := dsr.NewSubjectHasher([]byte("state-test-rotated-subject-key-0123456789"))
		if _, err := state.RehashSubjects(ctx, b.db, done); err != nil {
			t.Fatal(err)
		}
		if got := keyUse(t, b, state.KindOpenRequests, done.KeyID()); got != 1 {
			t.Errorf("an unrecorded row once no rotation is under way: %d on the current key; want 1", got)
		}
	})
}
