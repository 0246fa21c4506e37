package engine_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// stuckCopies is a dsr.Copies whose copies cannot be removed.
type stuckCopies struct{ erased, found []dsr.CopyScope }

func (c *stuckCopies) EraseCopies(_ context.Context, s dsr.CopyScope) (map[string]int64, error) {
	c.erased = append(c.erased, s)
	return map[string]int64{}, nil
}

func (c *stuckCopies) FindCopies(_ context.Context, s dsr.CopyScope) (map[string]int64, error) {
	c.found = append(c.found, s)
	return map[string]int64{"lethe.exports": 1, "lethe.self_requests": 2}, nil
}

// TestVerificationChecksLethesCopies: an erasure asks Lethe's own stores
// to forget the person within its scope, and a package or address still
// there fails the verification, named.
func TestVerificationChecksLethesCopies(t *testing.T) {
	e := setup(t, registry.DriverSQLite)
	copies := &stuckCopies{}
	e.eng.Copies = copies
	req := erasure("alice@example.com", "acme")
	req.Subject = "subject-of-alice"
	out, err := e.eng.Execute(context.Background(), req, newJournal())
	if err != nil {
		t.Fatal(err)
	}
	v := out.Verification
	if v.Passed || v.Found["lethe.exports"] != 1 || v.Found["lethe.self_requests"] != 2 || v.Remaining != 3 {
		t.Errorf("verification = %+v; want failed, naming the package and the addresses left", v)
	}
	want := dsr.CopyScope{RequestID: req.ID, Tenant: "acme", Subjects: []dsr.Subject{"subject-of-alice"}}
	if len(copies.erased) != 1 || len(copies.found) != 1 || copies.erased[0].Tenant != want.Tenant ||
		copies.erased[0].RequestID != want.RequestID || copies.found[0].Subjects[0] != want.Subjects[0] {
		t.Errorf("copies asked with %+v then %+v; want %+v", copies.erased, copies.found, want)
	}
}
