package testkit

import (
	"context"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// DemoApp is the demo application seeded in a test's folder: its registry
// and its opened SQL and blob stores, closed when the test ends.
type DemoApp struct {
	*demo.Demo
	Registry *registry.Registry
	Stores   sqlstore.Stores
	Blobs    blobstore.Stores
}

// SeedDemo seeds the demo application under dir and opens its stores.
func SeedDemo(t testing.TB, dir string) *DemoApp {
	t.Helper()
	ctx := context.Background()
	d, err := demo.Seed(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse(d.Registry("DEMO_DB"))
	if err != nil {
		t.Fatal(err)
	}
	stores, err := sqlstore.OpenRegistry(reg, func(string) string { return d.DBPath })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close() })
	blobs, err := blobstore.OpenRegistry(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return &DemoApp{Demo: d, Registry: reg, Stores: stores, Blobs: blobs}
}
