package redisstore

import (
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Stores are the open redis stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every redis store of reg, reading each address from
// the environment variable the store names through getenv. Errors: a
// variable that is empty, named by store and variable, never by value.
func OpenRegistry(reg *registry.Registry, getenv func(string) string) (Stores, error) {
	return connector.OpenAll[Stores](reg, registry.KindRedis, getenv, func(name string, _ *registry.Store, addr string) (*Store, error) {
		return Open(name, addr)
	})
}

// Engine returns the stores as the engine's KeyStore map.
func (ss Stores) Engine() map[string]engine.KeyStore {
	return connector.Views(ss, func(s *Store) engine.KeyStore { return s })
}

// Close closes every store.
func (ss Stores) Close() error { return connector.CloseAll(ss) }
