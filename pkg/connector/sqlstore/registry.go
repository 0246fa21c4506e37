package sqlstore

import (
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Stores are the open sql stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every sql store of reg, reading each DSN from the
// environment variable the store names through getenv (os.Getenv in
// production). It does not connect (see Open). Errors: a DSN variable that
// is empty, named by the store and variable, never by its value.
func OpenRegistry(reg *registry.Registry, getenv func(string) string) (Stores, error) {
	return connector.OpenAll[Stores](reg, registry.KindSQL, getenv, func(name string, st *registry.Store, dsn string) (*Store, error) {
		return Open(name, st.Driver, dsn)
	})
}

// Engine returns the stores as the engine's Store map.
func (ss Stores) Engine() map[string]connector.Store {
	return connector.Views(ss, func(s *Store) connector.Store { return s })
}

// Schemas returns the stores as the registry's SchemaReader map, for CheckLive.
func (ss Stores) Schemas() map[string]registry.SchemaReader {
	return connector.Views(ss, func(s *Store) registry.SchemaReader { return s })
}

// Close closes every store.
func (ss Stores) Close() error { return connector.CloseAll(ss) }
