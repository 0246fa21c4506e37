// Package blobstore is the blob connector: it implements the engine's
// BlobStore (dsr/engine) over gocloud.dev buckets, with the file://, mem://
// and s3:// drivers registered.
//
// File references come from the application's rows, so they are
// untrusted. A reference that starts with the store's path_prefix (the
// folder the app wrote, such as /app/backend/data/uploads/) loses it; the
// key that remains is refused with an error wrapping engine.ErrUnsafeKey
// when it is empty, absolute, holds an empty, "." or ".." segment, a NUL or
// another control character, or does not start with the store's prefix,
// and, in a file:// bucket, when it is a symbolic link or passes through
// one (examined with Lstat, never followed). The engine reports a refused
// reference and never follows it. Deleting a missing object is not an
// error, so a resumed erasure can repeat a delete. A bucket that fails for
// any other reason answers a *dsr.Error with code EUNAVAILABLE naming the
// store, which makes the request retry. Keys never appear in errors: they
// may carry personal data.
package blobstore
