package mongostore

import (
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

var _ retention.Store = (*Store)(nil)

// Stores are the open mongo stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every mongo store of reg, reading each URI from the
// environment variable the store names through getenv. It does not
// connect (see Open). Errors: a variable that is empty, named by store and
// variable, never by its value.
func OpenRegistry(reg *registry.Registry, getenv func(string) string) (Stores, error) {
	return connector.OpenAll[Stores](reg, registry.KindMongo, getenv, func(name string, st *registry.Store, uri string) (*Store, error) {
		return Open(name, uri, st.Database)
	})
}

// AddTo adds the stores to the engine's Store map.
func (ss Stores) AddTo(stores map[string]connector.Store) {
	for k, v := range ss {
		stores[k] = v
	}
}

// Documents returns the stores as the registry's DocumentReader map, for
// CheckLive.
func (ss Stores) Documents() map[string]registry.DocumentReader {
	return connector.Views(ss, func(s *Store) registry.DocumentReader { return s })
}

// Close closes every store.
func (ss Stores) Close() error { return connector.CloseAll(ss) }
