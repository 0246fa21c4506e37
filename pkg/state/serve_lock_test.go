package state_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestLockServeInAFreshFolder: lethe serve in a folder where the state
// store's folder does not exist yet (the default sqlite://.lethe/lethe.db
// on a first start) takes the lock, in a folder made owner-only, and a
// second server of the same file is refused until the first lets go.
func TestLockServeInAFreshFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh", ".lethe")
	url := "sqlite://" + filepath.Join(dir, "lethe.db")
	lock, err := state.LockServe(url)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state folder: %v, %v; want it made 0700", fi, err)
	}
	if _, err := state.LockServe(url); !errors.Is(err, state.ErrServed) {
		t.Errorf("second server: %v; want ErrServed", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := state.LockServe(url)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = again.Release()
}
