package blobstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestResolve maps the paths rows hold onto the bucket and checks the
// resulting key: confinement is judged after mapping, and symbolic links
// (a file, or a folder on the way) are refused without being followed.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir, outside := filepath.Join(root, "uploads"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(dir, "cv"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, content := range map[string]string{filepath.Join(dir, "cv", "a.txt"): "a", filepath.Join(outside, "s.txt"): "secret"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "s.txt"), filepath.Join(dir, "cv", "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "cv", "dir")); err != nil {
		t.Fatal(err)
	}
	s, err := blobstore.OpenStore(ctx, &registry.Store{Name: "uploads", Kind: registry.KindBlob, URL: "file://" + dir,
		Prefix: "cv/", PathPrefix: "/app/data/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		ref, key string // key "" when refused
	}{
		{"/app/data/cv/a.txt", "cv/a.txt"},
		{"cv/a.txt", "cv/a.txt"},
		{"/app/data/cv/missing.txt", "cv/missing.txt"},
		{"/app/data/../outside/s.txt", ""},
		{"/app/data/cv/../../outside/s.txt", ""},
		{"/app/datacv/a.txt", ""}, // not under the prefix: absolute
		{"/app/data//etc/passwd", ""},
		{"/etc/passwd", ""},
		{"/app/data/cv/link.txt", ""},
		{"cv/dir/s.txt", ""},
		{"cv/dir", ""},
		{"cv/a.txt/x", "cv/a.txt/x"}, // under a file: nothing to follow
	} {
		key, err := s.Resolve(tc.ref)
		if tc.key == "" {
			if !errors.Is(err, engine.ErrUnsafeKey) {
				t.Errorf("Resolve(%q) = %q, %v; want refused", tc.ref, key, err)
			}
			continue
		}
		if err != nil || key != tc.key {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, key, err, tc.key)
		}
	}
	if _, err := s.Open(ctx, "cv/link.txt"); !errors.Is(err, engine.ErrUnsafeKey) {
		t.Errorf("Open through a link: %v", err)
	}
	if _, err := s.Delete(ctx, "cv/dir/s.txt"); !errors.Is(err, engine.ErrUnsafeKey) {
		t.Errorf("Delete through a linked folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "s.txt")); err != nil {
		t.Errorf("the file outside was touched: %v", err)
	}
	if ok, err := s.Exists(ctx, "/app/data/cv/a.txt"); !ok || err != nil {
		t.Errorf("Exists(mapped) = %v, %v", ok, err)
	}
}
