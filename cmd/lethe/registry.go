package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// appStores is a loaded registry with its stores open and checked.
type appStores struct {
	Registry *registry.Registry
	Stores   sqlstore.Stores
	Engine   *engine.Engine
	Warnings []registry.Problem
}

// openRegistry loads the registry at path, checks that every variable it
// names is set, opens its stores and checks the live schemas against it.
// getenv resolves the variables the registry names (os.Getenv but in the
// demo). Any problem is an error that names the path in the file and what
// to change: a registry that cannot be walked never starts the service.
func openRegistry(ctx context.Context, path string, getenv func(string) string, hasher *dsr.SubjectHasher) (*appStores, error) {
	reg, err := registry.Load(path)
	if err != nil {
		return nil, err
	}
	lookup := func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
	if err := reg.CheckEnv(lookup); err != nil {
		return nil, err
	}
	stores, err := sqlstore.OpenRegistry(reg, getenv)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	warnings, err := reg.CheckLive(ctx, stores.Schemas())
	if err != nil {
		stores.Close()
		return nil, err
	}
	return &appStores{Registry: reg, Stores: stores, Engine: engine.New(reg, stores.Engine(), hasher), Warnings: warnings}, nil
}

// Close closes the stores.
func (a *appStores) Close() error { return a.Stores.Close() }

// demoGetenv resolves the demo registry's DSN variable to the seeded
// database, and every other name from the environment.
func demoGetenv(dbPath string) func(string) string {
	return func(k string) string {
		if k == demoDSNEnv {
			if v := os.Getenv(k); v != "" {
				return v
			}
			return dbPath
		}
		return os.Getenv(k)
	}
}

// demoDSNEnv is the variable the demo registry reads its database path from;
// lethe serve --demo fills it in, other commands take it from the environment.
const demoDSNEnv = "DEMO_APP_DB"
