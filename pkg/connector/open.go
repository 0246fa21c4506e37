package connector

import (
	"fmt"
	"sort"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// OpenAll opens every store of reg of the given kind (registry.KindSQL, …)
// with open, in the order of their names, and returns them by name: the
// OpenRegistry of each connector. addr is the store's address (DSN, URI or
// host:port) read through getenv (os.Getenv in production) from the
// variable the store names; "" for a kind that names none (blob).
//
// Errors: a variable that is empty, named by store and variable, never by
// a value; else the first store that cannot be opened, as open says. The
// stores opened before it are closed.
func OpenAll[M ~map[string]S, S interface{ Close() error }](reg *registry.Registry, kind string, getenv func(string) string,
	open func(name string, st *registry.Store, addr string) (S, error)) (M, error) {
	var names []string
	for name, st := range reg.Stores {
		if st.Kind == kind {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := M{}
	for _, name := range names {
		st := reg.Stores[name]
		var addr string
		var err error
		if v := addressVariable(st); v != "" {
			addr, err = Env(getenv, name, v)
		}
		var s S
		if err == nil {
			s, err = open(name, st, addr)
		}
		if err != nil {
			CloseAll(out)
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// addressVariable names the environment variable that holds st's address,
// "" for a kind whose address is in the registry itself.
func addressVariable(st *registry.Store) string {
	switch st.Kind {
	case registry.KindSQL:
		return st.DSNEnv
	case registry.KindMongo:
		return st.URIEnv
	case registry.KindRedis:
		return st.AddrEnv
	}
	return ""
}

// Env returns the value of the environment variable that store names,
// read through getenv. Errors: an empty variable, named by store and
// variable, never by a value.
func Env(getenv func(string) string, store, variable string) (string, error) {
	v := getenv(variable)
	if v == "" {
		return "", fmt.Errorf("store %s: environment variable %s is not set", store, variable)
	}
	return v, nil
}

// Views returns the stores of m by name as T, an interface they implement
// (the engine's Store, BlobStore or KeyStore, a registry reader, …).
func Views[T any, M ~map[string]S, S any](m M, as func(S) T) map[string]T {
	out := make(map[string]T, len(m))
	for k, v := range m {
		out[k] = as(v)
	}
	return out
}
