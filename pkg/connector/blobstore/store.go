package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/memblob"  // mem:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// Store is one blob store of the registry.
type Store struct {
	name   string
	prefix string
	bucket *blob.Bucket
}

var _ engine.BlobStore = (*Store)(nil)

// Open opens the bucket at url (a gocloud URL such as file:///var/uploads,
// mem:// or s3://bucket?region=…) as store name; keys must start with
// prefix ("" for any key). Errors: a URL whose scheme has no driver, or a
// bucket the driver cannot open, named by the store.
func Open(ctx context.Context, name, url, prefix string) (*Store, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("store %s: open bucket: %w", name, err)
	}
	return &Store{name: name, prefix: prefix, bucket: b}, nil
}

// Name returns the store's name in the registry.
func (s *Store) Name() string { return s.name }

// Check implements engine.BlobStore: an error wrapping engine.ErrUnsafeKey
// for a key that must not be followed.
func (s *Store) Check(key string) error {
	if err := CheckKey(key, s.prefix); err != nil {
		return fmt.Errorf("store %s: %w", s.name, err)
	}
	return nil
}

// CheckKey returns an error wrapping engine.ErrUnsafeKey when key is empty,
// absolute (a leading '/' or '\', or a drive letter), holds a NUL or a "."
// or ".." segment (split on '/' and '\'), or does not start with prefix.
func CheckKey(key, prefix string) error {
	switch {
	case key == "", strings.ContainsRune(key, 0), key[0] == '/', key[0] == '\\',
		len(key) > 1 && key[1] == ':':
		return engine.ErrUnsafeKey
	case prefix != "" && !strings.HasPrefix(key, prefix):
		return engine.ErrUnsafeKey
	}
	for _, seg := range strings.FieldsFunc(key, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return engine.ErrUnsafeKey
		}
	}
	return nil
}

// Open implements engine.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := s.Check(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("store %s: %w", s.name, engine.ErrNoObject)
	} else if err != nil {
		return nil, s.unavailable("read", err)
	}
	return r, nil
}

// Delete implements engine.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.Check(key); err != nil {
		return false, err
	}
	err := s.bucket.Delete(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case gcerrors.Code(err) == gcerrors.NotFound:
		return false, nil
	}
	return false, s.unavailable("delete", err)
}

// Exists implements engine.BlobStore.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := s.Check(key); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, s.unavailable("stat", err)
	}
	return ok, nil
}

// Ping checks that the bucket is reachable; EUNAVAILABLE when it is not.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ok, err := s.bucket.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("bucket does not exist")
	}
	if err != nil {
		return s.unavailable("ping", err)
	}
	return nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Bucket returns the underlying bucket, for tools and tests.
func (s *Store) Bucket() *blob.Bucket { return s.bucket }

// unavailableError is EUNAVAILABLE with the bucket's error kept for logs.
type unavailableError struct {
	coded *dsr.Error
	cause error
}

func (e *unavailableError) Error() string   { return e.coded.Message + ": " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.coded, e.cause} }

// unavailable keeps only the driver's error code: the driver's message
// repeats the object key, which may carry personal data.
func (s *Store) unavailable(op string, cause error) error {
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("blob store %s: %s: %w", s.name, op, cause)
	}
	return &unavailableError{coded: dsr.Errorf(dsr.EUNAVAILABLE, "blob store %s: %s failed", s.name, op),
		cause: fmt.Errorf("gocloud code %s", gcerrors.Code(cause))}
}
