package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/processor"
	"github.com/lethe-privacy/lethe/pkg/connector/redisstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// appStores is a loaded registry with its stores open and checked.
type appStores struct {
	Registry *registry.Registry
	Stores   sqlstore.Stores
	Blobs    blobstore.Stores
	Redis    redisstore.Stores
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
	a := &appStores{Registry: reg, Stores: stores, Engine: engine.New(reg, stores.Engine(), hasher), Warnings: warnings}
	if err := a.openOthers(ctx, getenv); err != nil {
		a.Close()
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	return a, nil
}

// openOthers opens the registry's blob, redis and processor stores and
// hands them to the engine. Nothing connects yet: /readyz pings them.
func (a *appStores) openOthers(ctx context.Context, getenv func(string) string) error {
	var err error
	if a.Blobs, err = blobstore.OpenRegistry(ctx, a.Registry); err != nil {
		return err
	}
	if a.Redis, err = redisstore.OpenRegistry(a.Registry, getenv); err != nil {
		return err
	}
	procs, err := processor.FromRegistry(a.Registry, getenv)
	if err != nil {
		return err
	}
	a.Engine.Blobs, a.Engine.KeyStores, a.Engine.Processors = a.Blobs.Engine(), a.Redis.Engine(), procs
	return nil
}

// Pingers returns what /readyz checks for the registry: every sql, blob
// and redis store, as "store <name>".
func (a *appStores) Pingers() map[string]interface{ Ping(context.Context) error } {
	out := map[string]interface{ Ping(context.Context) error }{}
	for name, s := range a.Stores {
		out["store "+name] = s
	}
	for name, s := range a.Blobs {
		out["store "+name] = s
	}
	for name, s := range a.Redis {
		out["store "+name] = s
	}
	return out
}

// Close closes the stores.
func (a *appStores) Close() error {
	return errors.Join(a.Stores.Close(), a.Blobs.Close(), a.Redis.Close())
}

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
