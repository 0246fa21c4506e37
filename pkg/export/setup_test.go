package export_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// openState opens a fresh, migrated state store of dialect.
func openState(t *testing.T, dialect string) *state.DB {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	if dialect == state.Postgres {
		url = testdb.Postgres(t)
	}
	db, err := state.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
