package engine

import (
	"context"
	"errors"
	"io"
)

// ErrUnsafeKey is wrapped by a BlobStore's error for a file reference read
// from a row that, once resolved, is absolute, holds a ".." segment, leaves
// the store's prefix or passes through a symbolic link: such a reference is
// refused and reported, never followed.
var ErrUnsafeKey = errors.New("object key refused: absolute, holds '..', leaves the store's prefix or is a symbolic link")

// ErrNoObject is wrapped by BlobStore.Open's error when the object does not exist.
var ErrNoObject = errors.New("object does not exist")

// BlobStore is one blob store of the registry: where the objects named by
// collections' file columns live. Every method takes a reference as a row
// holds it (a key, or a path the store maps onto a key).
//
// Errors: every method first resolves the reference and returns an error
// wrapping ErrUnsafeKey for one it refuses; a store that cannot be reached
// returns a *dsr.Error with code dsr.EUNAVAILABLE naming the store.
type BlobStore interface {
	// Resolve returns the object key that ref names, or an error wrapping
	// ErrUnsafeKey when ref must not be followed. It changes nothing.
	Resolve(ref string) (key string, err error)
	// Open returns the object's content; an error wrapping ErrNoObject when
	// it does not exist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object and reports whether it existed; deleting a
	// missing object is not an error, so a resumed erasure can repeat it.
	Delete(ctx context.Context, key string) (existed bool, err error)
	// Exists reports whether the object exists.
	Exists(ctx context.Context, key string) (bool, error)
}

// refused reports whether err refuses a reference (nil: followable) and
// returns any other error, such as a store that cannot be examined.
func refused(err error) (bool, error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, ErrUnsafeKey):
		return true, nil
	}
	return false, err
}

// fileSet names the frozen key set of a file column.
func fileSet(collection, column string) string { return "files:" + collection + "." + column }
