package testkit

import (
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// StateDialects are the state stores Lethe keeps its own records in: the
// embedded SQLite and Postgres (state.SQLite and state.Postgres, spelled
// out here because pkg/state's own dependencies' tests import testkit).
var StateDialects = []string{"sqlite", "postgres"}

// StateURL returns the URL of a fresh state store of dialect: a new
// Postgres database, or a SQLite file in t's temporary folder.
func StateURL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "postgres" {
		return testdb.Postgres(t)
	}
	return "sqlite://" + testdb.SQLite(t)
}

// ForEachState runs fn as a parallel subtest per dialect of StateDialects.
func ForEachState(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	forEach(t, StateDialects, fn)
}

// forEach runs fn as a parallel subtest named after each of names.
func forEach(t *testing.T, names []string, fn func(t *testing.T, name string)) {
	t.Helper()
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			fn(t, n)
		})
	}
}
