package testkit

import (
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// Drivers are the SQL drivers an application store may use, each tested
// against its real database.
var Drivers = []string{registry.DriverPostgres, registry.DriverMySQL, registry.DriverSQLite}

// DSN returns the address of a fresh, empty database of driver (one of
// Drivers), dropped when t ends.
func DSN(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case registry.DriverPostgres:
		return testdb.Postgres(t)
	case registry.DriverMySQL:
		return testdb.MySQL(t)
	}
	return testdb.SQLite(t)
}

// OpenStore opens the application store name on a fresh database of
// driver, closed when t ends, and runs ddl in it, statement by statement.
func OpenStore(t testing.TB, name, driver string, ddl ...string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(name, driver, DSN(t, driver))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, stmt := range ddl {
		Exec(t, s, stmt)
	}
	return s
}

// Exec runs stmt with args in s and fails t, naming stmt, on an error.
func Exec(t testing.TB, s *sqlstore.Store, stmt string, args ...any) {
	t.Helper()
	if err := s.DB().Exec(stmt, args...).Error; err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TimestampType is the column type of a point in time on driver, to the
// microsecond: DATETIME(6) on MySQL, TIMESTAMP elsewhere.
func TimestampType(driver string) string {
	if driver == registry.DriverMySQL {
		return "DATETIME(6)"
	}
	return "TIMESTAMP"
}

// ForEachDriver runs fn as a parallel subtest per driver of Drivers.
func ForEachDriver(t *testing.T, fn func(t *testing.T, driver string)) {
	t.Helper()
	forEach(t, Drivers, fn)
}
