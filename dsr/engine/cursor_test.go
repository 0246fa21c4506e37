package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestStepDetailsHoldNoKeys: the details of the steps an erasure journals
// (what tenants are shown) carry counts and passes, never a key of the
// application: the last row anonymised and the last file handled travel
// in the step's Cursor, which is never shown.
func TestStepDetailsHoldNoKeys(t *testing.T) {
	for _, d := range []string{registry.DriverSQLite, registry.DriverPostgres} {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			e.eng.KeyChunk = 1 // one file key per chunk: a cursor after each
			j := newJournal()
			if _, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j); err != nil {
				t.Fatal(err)
			}
			cursors := map[string]bool{}
			for _, s := range j.history {
				if s.Cursor != "" {
					cursors[strings.Fields(s.Name)[0]] = true
				}
				for _, leak := range []string{"cv/", "alice@", "Alice@", `"after"`, `"main`, "101"} {
					if strings.Contains(s.Detail, leak) {
						t.Errorf("step %q (%s) shows %q in its detail: %s", s.Name, s.Status, leak, s.Detail)
					}
				}
			}
			if !cursors["erase"] || !cursors["files"] {
				t.Errorf("steps with a cursor: %v; want the anonymise and files steps to resume from one", cursors)
			}
		})
	}
}
