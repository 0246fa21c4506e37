package state_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestCompletedErasuresSince: the completed erasures, in the order they
// completed, from a time on and up to a limit, with their tenant and
// subject hash but no address; access requests, failed erasures and
// erasures still open are not listed.
func TestCompletedErasuresSince(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		log := &state.CompletedErasures{DB: b.db}
		end := func(typ dsr.Type, email, tenant string, status dsr.Status) *dsr.Request {
			r := b.create(t, admin, typ, email, tenant)
			run, _, err := b.runs.Start(ctx, r.ID, b.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			run.Status = status
			if err := b.runs.Finish(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request." + string(status), RequestID: r.ID}); err != nil {
				t.Fatal(err)
			}
			b.clock.Advance(time.Minute)
			return r
		}
		before := end(dsr.TypeErasure, "old@example.com", "career-coach", dsr.StatusCompleted)
		since := b.clock.Now()
		ada := end(dsr.TypeErasure, "ada@example.com", "career-coach", dsr.StatusCompleted)
		end(dsr.TypeAccess, "grace@example.com", "career-coach", dsr.StatusCompleted)
		end(dsr.TypeErasure, "alan@example.com", "calm-mind", dsr.StatusFailed)
		b.create(t, admin, dsr.TypeErasure, "mei@example.com", "calm-mind")
		all := end(dsr.TypeErasure, "joan@example.com", "", dsr.StatusCompleted)

		got, err := log.CompletedSince(ctx, since, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
			if r.Email != "" || r.FinishedAt == nil || r.Subject == "" {
				t.Errorf("erasure %s: email %q, finished %v, subject %q; want no address, a time and a hash", r.ID, r.Email, r.FinishedAt, r.Subject)
			}
		}
		if want := []string{ada.ID, all.ID}; !slices.Equal(ids, want) {
			t.Fatalf("completed since: %v; want %v (not %s, before)", ids, want, before.ID)
		}
		if got[0].Tenant != "career-coach" || got[1].Tenant != "" || got[0].Subject != b.hasher.Subject("ada@example.com") {
			t.Errorf("erasures: %+v, %+v", got[0], got[1])
		}
		if got, err := log.CompletedSince(ctx, since, 1); err != nil || len(got) != 1 || got[0].ID != ada.ID {
			t.Errorf("limit 1: %v, %v; want Ada's erasure alone", got, err)
		}
	})
}
