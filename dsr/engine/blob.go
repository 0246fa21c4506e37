package engine

import (
	"context"
	"errors"
	"io"
)

// ErrUnsafeKey is wrapped by a BlobStore's error for an object key read from
// a row that is absolute, holds a ".." segment or leaves the store's prefix:
// such a key is refused and reported, never followed.
var ErrUnsafeKey = errors.New("object key refused: absolute, holds '..' or leaves the store's prefix")

// ErrNoObject is wrapped by BlobStore.Open's error when the object does not exist.
var ErrNoObject = errors.New("object does not exist")

// BlobStore is one blob store of the registry: where the objects named by
// collections' file columns live.
//
// Errors: every method first checks the key and returns an error wrapping
// ErrUnsafeKey for a key it refuses; a store that cannot be reached returns
// a *dsr.Error with code dsr.EUNAVAILABLE naming the store.
type BlobStore interface {
	// Check returns an error wrapping ErrUnsafeKey when key must not be
	// followed, nil otherwise. It does not touch the store.
	Check(key string) error
	// Open returns the object's content; an error wrapping ErrNoObject when
	// it does not exist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object and reports whether it existed; deleting a
	// missing object is not an error, so a resumed erasure can repeat it.
	Delete(ctx context.Context, key string) (existed bool, err error)
	// Exists reports whether the object exists.
	Exists(ctx context.Context, key string) (bool, error)
}

// fileSet names the frozen key set of a file column.
func fileSet(collection, column string) string { return "files:" + collection + "." + column }
