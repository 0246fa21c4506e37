package export_test

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// openState opens a fresh, migrated state store of dialect.
func openState(t *testing.T, dialect string) *state.DB {
	t.Helper()
	db, err := state.Open(context.Background(), testkit.StateURL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
