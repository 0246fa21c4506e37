package export

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gocloud.dev/blob"
)

// TestFileBucketIsPrivate: opening a file bucket makes its folder and the
// packages already in it owner-only, and a package written through
// privateWriter, in a folder the bucket creates, is 0600 in a 0700 folder.
func TestFileBucketIsPrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "exports")
	if err := os.MkdirAll(filepath.Join(dir, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old", "p.zip.lethe"), []byte("sealed"), 0o644); err != nil {
		t.Fatal(err)
	}
	bucket, err := OpenBucket(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	w, err := bucket.NewWriter(ctx, "new/q.zip.lethe", privateWriter(&blob.WriterOptions{ContentType: "application/octet-stream"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"": 0o700, "old": 0o700, "old/p.zip.lethe": 0o600, "new": 0o700, "new/q.zip.lethe": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%q is %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

// TestSpoolIsPrivate: a spooled CSV entry waits on disk 0600.
func TestSpoolIsPrivate(t *testing.T) {
	sp, err := newSpool(t.TempDir(), "data/app/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	fi, err := sp.file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("spool file is %v, want 0600", fi.Mode().Perm())
	}
}
