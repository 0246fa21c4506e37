package private_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/private"
)

// mode returns the permission bits of path.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestTreeTightensWhatExists: folders and files made with wide modes
// before Lethe ran end 0700 and 0600; a symbolic link's target is not
// touched.
func TestTreeTightensWhatExists(t *testing.T) {
	root := filepath.Join(t.TempDir(), "exports")
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"p.zip", "a/q.zip", "a/b/r.zip"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "shared.txt")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := private.Tree(root); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"", "a", "a/b"} {
		if m := mode(t, filepath.Join(root, d)); m != 0o700 {
			t.Errorf("folder %q: %v, want 0700", d, m)
		}
	}
	for _, f := range []string{"p.zip", "a/q.zip", "a/b/r.zip"} {
		if m := mode(t, filepath.Join(root, f)); m != 0o600 {
			t.Errorf("file %s: %v, want 0600", f, m)
		}
	}
	if m := mode(t, outside); m != 0o644 {
		t.Errorf("the link's target outside the tree became %v", m)
	}
}

// TestCreate: a new file is 0600 in a new 0700 folder; an existing file
// and folder are tightened and the file's content kept.
func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "lethe.db")
	if err := private.Create(path); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("new file: %v", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("new folder: %v", m)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if err := private.Create(path); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("existing file: %v", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("existing folder: %v", m)
	}
	if b, _ := os.ReadFile(path); string(b) != "kept" {
		t.Errorf("content %q", b)
	}
}

// TestSharedFolderLeftAlone: a state file in a sticky folder everyone
// writes to (as /tmp) leaves that folder's mode as it was, and such a
// folder is refused as a tree of Lethe's own; an open folder without the
// sticky bit is tightened.
func TestSharedFolderLeftAlone(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := private.Create(filepath.Join(open, "lethe.db")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, open); m != 0o700 {
		t.Errorf("open folder left %v, want 0700", m)
	}
	for _, m := range []os.FileMode{os.ModeSticky | 0o777, os.ModeSticky | 0o755} {
		dir := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, m); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "lethe.db")
		if err := private.Create(path); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&(os.ModePerm|os.ModeSticky) != m {
			t.Errorf("%v: folder became %v", m, fi.Mode())
		}
		if got := mode(t, path); got != 0o600 {
			t.Errorf("%v: file %v", m, got)
		}
		if err := private.Tree(dir); err == nil {
			t.Errorf("%v: Tree took a shared folder", m)
		}
	}
}
