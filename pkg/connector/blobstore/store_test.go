package blobstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
)

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		name, key, prefix string
		ok                bool
	}{
		{"plain", "cv/1.pdf", "", true},
		{"in prefix", "cv/1.pdf", "cv/", true},
		{"dots in a name", "cv/a..b.pdf", "", true},
		{"empty", "", "", false},
		{"absolute", "/etc/passwd", "", false},
		{"backslash absolute", `\windows\win.ini`, "", false},
		{"drive", `C:\x`, "", false},
		{"parent", "../secret", "", false},
		{"parent inside", "cv/../../secret", "cv/", false},
		{"backslash parent", `cv\..\..\secret`, "", false},
		{"dot segment", "cv/./x", "", false},
		{"outside prefix", "jobs/1.txt", "cv/", false},
		{"prefix lookalike", "cvx/1.txt", "cv/", false},
		{"nul", "cv/\x00", "", false},
		{"empty segment", "cv//x", "", false},
		{"control character", "cv/\x01.pdf", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := blobstore.CheckKey(tc.key, tc.prefix)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, engine.ErrUnsafeKey)) {
				t.Errorf("CheckKey(%q, %q) = %v, want ok=%v", tc.key, tc.prefix, err, tc.ok)
			}
		})
	}
}

// TestFileStore works on real files: read, delete twice, and a traversal key
// that would reach a file outside the folder is refused without touching it.
func TestFileStore(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "uploads")
	if err := os.MkdirAll(filepath.Join(dir, "cv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cv", "ada.txt"), []byte("Ada's CV"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "secret.txt")
	if err := os.WriteFile(outside, []byte("not yours"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := blobstore.Open(ctx, "uploads", "file://"+dir, "cv/")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	r, err := s.Open(ctx, "cv/ada.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "Ada's CV" {
		t.Errorf("read %q", b)
	}
	if _, err := s.Open(ctx, "cv/nobody.txt"); !errors.Is(err, engine.ErrNoObject) {
		t.Errorf("missing object: %v, want ErrNoObject", err)
	}
	for _, key := range []string{"../secret.txt", "cv/../../secret.txt", "/" + outside} {
		if _, err := s.Delete(ctx, key); !errors.Is(err, engine.ErrUnsafeKey) {
			t.Errorf("Delete(%q) = %v, want ErrUnsafeKey", key, err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, engine.ErrUnsafeKey) {
			t.Errorf("Open(%q) = %v, want ErrUnsafeKey", key, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("the file outside the store was touched: %v", err)
	}

	existed, err := s.Delete(ctx, "cv/ada.txt")
	if err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cv", "ada.txt")); !os.IsNotExist(err) {
		t.Errorf("the file is still on disk: %v", err)
	}
	if existed, err := s.Delete(ctx, "cv/ada.txt"); err != nil || existed {
		t.Errorf("second delete: %v %v, want a quiet no-op", existed, err)
	}
	if ok, err := s.Exists(ctx, "cv/ada.txt"); err != nil || ok {
		t.Errorf("exists after delete: %v %v", ok, err)
	}
}

func TestPingMissingFolder(t *testing.T) {
	s, err := blobstore.Open(context.Background(), "gone", "file://"+filepath.Join(t.TempDir(), "nope"), "")
	if err == nil {
		defer s.Close()
		err = s.Ping(context.Background())
	}
	if err == nil {
		t.Fatal("a missing folder pinged fine")
	}
}
