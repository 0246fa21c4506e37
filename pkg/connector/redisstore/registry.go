package redisstore

import (
	"errors"
	"fmt"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Stores are the open redis stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every redis store of reg, reading each address from
// the environment variable the store names through getenv. Errors: a
// variable that is empty, named by store and variable, never by value.
func OpenRegistry(reg *registry.Registry, getenv func(string) string) (Stores, error) {
	out := Stores{}
	for name, st := range reg.Stores {
		if st.Kind != registry.KindRedis {
			continue
		}
		addr := getenv(st.AddrEnv)
		if addr == "" {
			out.Close()
			return nil, fmt.Errorf("store %s: environment variable %s is not set", name, st.AddrEnv)
		}
		s, err := Open(name, addr)
		if err != nil {
			out.Close()
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// Engine returns the stores as the engine's KeyStore map.
func (ss Stores) Engine() map[string]engine.KeyStore {
	out := make(map[string]engine.KeyStore, len(ss))
	for k, v := range ss {
		out[k] = v
	}
	return out
}

// Close closes every store.
func (ss Stores) Close() error {
	var errs []error
	for _, s := range ss {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
