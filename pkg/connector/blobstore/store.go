package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/memblob"  // mem:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Store is one blob store of the registry.
type Store struct {
	name   string
	prefix string
	// pathPrefix is removed from a reference that starts with it (rows
	// that hold /app/data/uploads/<key>); "" when rows hold keys.
	pathPrefix string
	// dir is a file:// bucket's folder, whose keys are checked for
	// symbolic links; "" for other buckets.
	dir    string
	bucket *blob.Bucket
}

var _ engine.BlobStore = (*Store)(nil)

// Open opens the bucket at url (a gocloud URL such as file:///var/uploads,
// mem:// or s3://bucket?region=…) as store name; keys must start with
// prefix ("" for any key). Errors: a URL whose scheme has no driver, or a
// bucket the driver cannot open, named by the store.
func Open(ctx context.Context, name, url, prefix string) (*Store, error) {
	return OpenStore(ctx, &registry.Store{Name: name, Kind: registry.KindBlob, URL: url, Prefix: prefix})
}

// OpenStore opens the blob store st of the registry, with its prefix and
// path_prefix. Errors as for Open.
func OpenStore(ctx context.Context, st *registry.Store) (*Store, error) {
	b, err := blob.OpenBucket(ctx, st.URL)
	if err != nil {
		return nil, fmt.Errorf("store %s: open bucket: %w", st.Name, err)
	}
	s := &Store{name: st.Name, prefix: st.Prefix, pathPrefix: st.PathPrefix, bucket: b}
	if u, err := neturl.Parse(st.URL); err == nil && u.Scheme == "file" {
		s.dir = fileDir(u)
	}
	return s, nil
}

// Name returns the store's name in the registry.
func (s *Store) Name() string { return s.name }

// Resolve implements engine.BlobStore: the object key that ref, a file
// column's value, names. The store's path_prefix is removed from a ref that
// starts with it; the key must then pass CheckKey and, in a file:// bucket,
// be neither a symbolic link nor under one (see checkLinks). Errors wrap
// engine.ErrUnsafeKey for a refused ref, or are EUNAVAILABLE when the
// bucket's folder cannot be read.
func (s *Store) Resolve(ref string) (string, error) {
	key := ref
	if s.pathPrefix != "" && strings.HasPrefix(ref, s.pathPrefix) {
		key = ref[len(s.pathPrefix):]
	}
	if err := CheckKey(key, s.prefix); err != nil {
		return "", fmt.Errorf("store %s: %w", s.name, err)
	}
	if err := s.checkLinks(key); err != nil {
		return "", err
	}
	return key, nil
}

// Check implements engine.BlobStore: Resolve's error, nil for a ref that
// may be followed.
func (s *Store) Check(ref string) error {
	_, err := s.Resolve(ref)
	return err
}

// CheckKey returns an error wrapping engine.ErrUnsafeKey when key is empty,
// absolute (a leading '/' or '\', or a drive letter), holds a NUL, a
// control character, an empty segment or a "." or ".." segment (split on
// '/' and '\'), or does not start with prefix.
func CheckKey(key, prefix string) error {
	switch {
	case key == "", key[0] == '/', key[0] == '\\', len(key) > 1 && key[1] == ':':
		return engine.ErrUnsafeKey
	case prefix != "" && !strings.HasPrefix(key, prefix):
		return engine.ErrUnsafeKey
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return engine.ErrUnsafeKey
		}
	}
	for _, seg := range strings.FieldsFunc(key, func(r rune) bool { return r == '\\' }) {
		for _, part := range strings.Split(seg, "/") {
			if part == "" || part == "." || part == ".." {
				return engine.ErrUnsafeKey
			}
		}
	}
	return nil
}

// Open implements engine.BlobStore: ref is resolved first (see Resolve).
func (s *Store) Open(ctx context.Context, ref string) (io.ReadCloser, error) {
	key, err := s.Resolve(ref)
	if err != nil {
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

// Delete implements engine.BlobStore: ref is resolved first (see Resolve).
func (s *Store) Delete(ctx context.Context, ref string) (bool, error) {
	key, err := s.Resolve(ref)
	if err != nil {
		return false, err
	}
	err = s.bucket.Delete(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case gcerrors.Code(err) == gcerrors.NotFound:
		return false, nil
	}
	return false, s.unavailable("delete", err)
}

// Exists implements engine.BlobStore: ref is resolved first (see Resolve).
func (s *Store) Exists(ctx context.Context, ref string) (bool, error) {
	key, err := s.Resolve(ref)
	if err != nil {
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

// unavailable keeps only the driver's error code: the driver's message
// repeats the object key, which may carry personal data.
func (s *Store) unavailable(op string, cause error) error {
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("blob store %s: %s: %w", s.name, op, cause)
	}
	return dsr.Errorf(dsr.EUNAVAILABLE, "blob store %s: %s failed", s.name, op).
		Because(fmt.Errorf("gocloud code %s", gcerrors.Code(cause)))
}
