package testkit

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// OpenMongo opens the application store "app" on a fresh mongo database,
// closed when t ends, and parses registryYAML with its %s replaced by that
// database's name.
func OpenMongo(t testing.TB, registryYAML string) (*mongostore.Store, *registry.Registry) {
	t.Helper()
	uri, database := testdb.Mongo(t)
	app, err := mongostore.Open("app", uri, database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	reg, err := registry.Parse([]byte(strings.Replace(registryYAML, "%s", database, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return app, reg
}
