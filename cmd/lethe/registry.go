package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/connector/processor"
	"github.com/lethe-privacy/lethe/pkg/connector/redisstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// appStores is a loaded registry with its stores open and checked.
type appStores struct {
	Registry *registry.Registry
	Stores   sqlstore.Stores
	Mongo    mongostore.Stores
	Blobs    blobstore.Stores
	Redis    redisstore.Stores
	Engine   *engine.Engine
	Warnings []registry.Problem
}

// openRegistry loads the registry at path for a command: its engine has
// no exporter. See openApp.
func openRegistry(ctx context.Context, path string, getenv func(string) string, hasher *dsr.SubjectHasher, redactors *redact.Keyring) (*appStores, error) {
	return openApp(ctx, path, getenv, hasher, redactors, nil, nil)
}

// openApp loads the registry at path, checks that every variable it names
// is set, opens its stores, checks the live schemas against it and builds
// the engine over them with exporter (nil: access requests fail) and
// redactors (nil: the redact strategy writes [redacted] in declared name
// and contact fields too). getenv
// resolves the variables the registry names (os.Getenv but in the demo).
// Any problem is an error that names the path in the file and what to
// change: a registry that cannot be walked never starts the service.
// Nothing connects to the blob and redis stores yet: /readyz pings them.
func openApp(ctx context.Context, path string, getenv func(string) string, hasher *dsr.SubjectHasher, redactors *redact.Keyring, exporter engine.Exporter, copies dsr.Copies) (*appStores, error) {
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
	a := &appStores{Registry: reg}
	if a.Stores, err = sqlstore.OpenRegistry(reg, getenv); err != nil {
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	if a.Warnings, err = reg.CheckLive(ctx, a.Stores.Schemas()); err != nil {
		a.Stores.Close()
		return nil, err
	}
	if err := a.openMongo(ctx, getenv); err != nil {
		a.Stores.Close()
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	procs, err := a.openOthers(ctx, getenv)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	a.Engine = &engine.Engine{Registry: reg, Stores: a.collectionStores(), Hasher: hasher, Redactors: redactors,
		Blobs: a.Blobs.Engine(), KeyStores: a.Redis.Engine(), Processors: procs, Exporter: exporter,
		Copies: copies}
	return a, nil
}

// openOthers opens the registry's blob and redis stores and returns its
// processors.
func (a *appStores) openOthers(ctx context.Context, getenv func(string) string) (map[string]engine.ProcessorNotifier, error) {
	var err error
	if a.Blobs, err = blobstore.OpenRegistry(ctx, a.Registry); err != nil {
		return nil, err
	}
	if a.Redis, err = redisstore.OpenRegistry(a.Registry, getenv); err != nil {
		return nil, err
	}
	return processor.FromRegistry(a.Registry, getenv)
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
	for name, s := range a.Mongo {
		out["store "+name] = s
	}
	return out
}

// openMongo opens the registry's mongo stores and checks their live
// collections (CheckLiveDocuments), adding its warnings.
func (a *appStores) openMongo(ctx context.Context, getenv func(string) string) error {
	var err error
	if a.Mongo, err = mongostore.OpenRegistry(a.Registry, getenv); err != nil {
		return err
	}
	warnings, err := a.Registry.CheckLiveDocuments(ctx, a.Mongo.Documents())
	a.Warnings = append(a.Warnings, warnings...)
	if err != nil {
		a.Mongo.Close()
	}
	return err
}

// collectionStores returns the sql and mongo stores by name: the engine's
// and the sweeper's Stores.
func (a *appStores) collectionStores() map[string]connector.Store {
	out := a.Stores.Engine()
	a.Mongo.AddTo(out)
	return out
}

// Close closes the stores.
func (a *appStores) Close() error {
	return errors.Join(a.Stores.Close(), a.Mongo.Close(), a.Blobs.Close(), a.Redis.Close())
}

// openApp opens lethe serve's registry with the access packages' exporter;
// nil, with a warning, when none is configured (every request then fails
// saying so).
func (m *Main) openApp(ctx context.Context, path string, getenv func(string) string, svc *services) (*appStores, error) {
	if path == "" {
		m.Logger.Warn("no registry configured (LETHE_CONFIG): every request will fail until one is set")
		return nil, nil
	}
	var exporter engine.Exporter
	// An erasure reaches Lethe's own copies of its person too.
	copies := &export.Copies{Records: svc.Copies, Now: time.Now}
	if m.Exports != nil {
		exporter, copies.Bucket = m.Exports, m.Exports.Bucket
	}
	app, err := openApp(ctx, path, getenv, svc.Hasher, svc.Redactors, exporter, copies)
	if err != nil {
		return nil, err
	}
	for _, w := range app.Warnings {
		m.Logger.Warn("registry", "problem", w.String())
	}
	m.Logger.Info("registry loaded", "path", path, "version", app.Registry.Version())
	return app, nil
}
