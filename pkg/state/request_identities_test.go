package state_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestRequestFiledByPhone: a request filed by phone is stored with its
// normalised number, has the keyed hash of the number as subject, and
// forgets the number when it ends (finished or cancelled), as it forgets
// an email. Without a registry only an email is accepted.
func TestRequestFiledByPhone(t *testing.T) {
	reg, err := registry.Parse([]byte(`
stores: {app: {kind: sql, driver: postgres, dsn_env: APP_DSN}}
identities: {phone: {normalize: e164, region: GB}}
collections:
  app.users: {identity: {phone: phone}, erasure: delete}
`))
	if err != nil {
		t.Fatal(err)
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		in := dsr.NewRequest{Type: dsr.TypeErasure, Identities: map[string]string{"phone": "07700 900123"}}
		if _, _, err := b.requests.Create(ctx, admin, in); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
			t.Fatalf("without a registry: %v, want EUNPROCESSABLE", err)
		}
		b.requests.Identities = reg
		var ended []string
		for _, end := range []string{"finish", "cancel", "deny"} {
			r, _, err := b.requests.Create(ctx, admin, in)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := b.requests.Get(ctx, admin, r.ID)
			if got.Identities["phone"] != "+447700900123" || got.Email != "" || got.Subject != b.hasher.IdentitySubject("phone", "+447700900123") {
				t.Fatalf("stored %+v", got)
			}
			switch end {
			case "cancel":
				if _, err := b.requests.Cancel(ctx, admin, r.ID, "no longer wanted"); err != nil {
					t.Fatal(err)
				}
			case "deny": // as the review gate holds it
				if err := b.db.Gorm.Exec("UPDATE lethe_requests SET status = 'awaiting_approval' WHERE id = ?", r.ID).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := b.requests.Deny(ctx, admin, r.ID, "an open dispute"); err != nil {
					t.Fatal(err)
				}
			default:
				run, _, err := b.runs.Start(ctx, r.ID, b.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				run.Status = dsr.StatusCompleted
				if err := b.runs.Finish(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: r.ID}); err != nil {
					t.Fatal(err)
				}
			}
			ended = append(ended, r.ID)
		}
		for _, id := range ended {
			if n := b.count(t, "lethe_requests", "id = ? AND identities IS NOT NULL", id); n != 0 {
				t.Errorf("request %s ended and still holds its identities", id)
			}
		}
		// The review gate holds a request filed by phone as it holds one
		// filed by email.
		b.requests.Gate = &dsr.Gate{Registry: dsr.ApprovalRule{Erasure: true}}
		held, _, err := b.requests.Create(ctx, admin, in)
		b.requests.Gate = nil
		if err != nil {
			t.Fatal(err)
		}
		if held.Status != dsr.StatusAwaitingApproval {
			t.Errorf("an erasure filed by phone under an approval rule is %s, want %s", held.Status, dsr.StatusAwaitingApproval)
		}
		bad := dsr.NewRequest{Type: dsr.TypeErasure, Identities: map[string]string{"phone": "ring 31337"}}
		if _, _, err := b.requests.Create(ctx, admin, bad); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
			t.Errorf("a bad phone: %v, want EUNPROCESSABLE", err)
		}
	})
}
