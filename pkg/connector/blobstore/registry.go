package blobstore

import (
	"context"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Stores are the open blob stores of a registry, by name.
type Stores map[string]*Store

// OpenRegistry opens every blob store of reg. Errors: the first store that
// cannot be opened, by name; the stores opened before it are closed.
func OpenRegistry(ctx context.Context, reg *registry.Registry) (Stores, error) {
	return connector.OpenAll[Stores](reg, registry.KindBlob, nil, func(_ string, st *registry.Store, _ string) (*Store, error) {
		return OpenStore(ctx, st)
	})
}

// Engine returns the stores as the engine's BlobStore map.
func (ss Stores) Engine() map[string]engine.BlobStore {
	return connector.Views(ss, func(s *Store) engine.BlobStore { return s })
}

// Close closes every store.
func (ss Stores) Close() error { return connector.CloseAll(ss) }
