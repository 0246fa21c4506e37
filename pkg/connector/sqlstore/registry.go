package sqlstore

import (
	"fmt"

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
	out := Stores{}
	for _, name := range reg.SQLStores() {
		st := reg.Stores[name]
		dsn := getenv(st.DSNEnv)
		if dsn == "" {
			out.Close()
			return nil, fmt.Errorf("store %s: environment variable %s is not set", name, st.DSNEnv)
		}
		s, err := Open(name, st.Driver, dsn)
		if err != nil {
			out.Close()
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// Engine returns the stores as the engine's Store map.
func (ss Stores) Engine() map[string]connector.Store {
	out := make(map[string]connector.Store, len(ss))
	for k, v := range ss {
		out[k] = v
	}
	return out
}

// Schemas returns the stores as the registry's SchemaReader map, for CheckLive.
func (ss Stores) Schemas() map[string]registry.SchemaReader {
	out := make(map[string]registry.SchemaReader, len(ss))
	for k, v := range ss {
		out[k] = v
	}
	return out
}

// Close closes every store.
func (ss Stores) Close() error { return connector.CloseAll(ss) }
