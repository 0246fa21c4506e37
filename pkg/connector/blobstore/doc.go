// Package blobstore is the blob connector: it implements the engine's
// BlobStore (dsr/engine) over gocloud.dev buckets, with the file://, mem://
// and s3:// drivers registered.
//
// Object keys come from the application's rows, so they are untrusted: a
// key that is empty, absolute, holds a "." or ".." segment or a NUL, or does
// not start with the store's configured prefix is refused with an error
// wrapping engine.ErrUnsafeKey before the bucket is touched; the engine
// reports it and never follows it. Deleting a missing object is not an
// error, so a resumed erasure can repeat a delete. A bucket that fails for
// any other reason answers a *dsr.Error with code EUNAVAILABLE naming the
// store, which makes the request retry. Keys never appear in errors: they
// may carry personal data.
package blobstore
