package blobstore

import (
	"context"
	"errors"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Stores are the open blob stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every blob store of reg. Errors: the first store that
// cannot be opened, by name; the stores opened before it are closed.
func OpenRegistry(ctx context.Context, reg *registry.Registry) (Stores, error) {
	out := Stores{}
	for name, st := range reg.Stores {
		if st.Kind != registry.KindBlob {
			continue
		}
		s, err := OpenStore(ctx, st)
		if err != nil {
			out.Close()
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// Engine returns the stores as the engine's BlobStore map.
func (ss Stores) Engine() map[string]engine.BlobStore {
	out := make(map[string]engine.BlobStore, len(ss))
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
