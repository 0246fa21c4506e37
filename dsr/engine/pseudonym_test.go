package engine_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestHMACStrategyWritesAPseudonymNoOneIsShown: the hmac strategy writes
// the anonymisation pseudonym (SubjectHasher.Anonymize), not the subject
// that the audit trail, the admin and the tenants are shown, so a value
// obtained by filing a request cannot find the person's anonymised rows.
func TestHMACStrategyWritesAPseudonymNoOneIsShown(t *testing.T) {
	e := setup(t, registry.DriverSQLite)
	const email = "bob@example.com"
	if _, err := e.eng.Execute(context.Background(), erasure(email, ""), newJournal()); err != nil {
		t.Fatal(err)
	}
	rows := dumpRows(t, e.billing, "SELECT email FROM customers WHERE user_ref = 2")
	if len(rows) != 1 {
		t.Fatalf("bob's customer rows: %v", rows)
	}
	h := dsr.NewSubjectHasher([]byte("test-key"))
	written := rows[0][0]
	if written != `"`+h.Anonymize(email)+`"` {
		t.Errorf("written %s, want the anonymisation pseudonym %s", written, h.Anonymize(email))
	}
	subject := h.Subject(email)
	for _, shown := range []dsr.Subject{subject, h.TenantView("acme", subject), h.TenantView("globex", subject), h.Legacy(email)} {
		if written == `"`+string(shown)+`"` {
			t.Errorf("the value written into the application's table is one the API shows: %s", shown)
		}
	}
}
