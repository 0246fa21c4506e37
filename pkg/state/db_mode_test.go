package state_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestSQLiteFileIsPrivate: the state file, its -wal and -shm and its
// folder are owner-only, new or left wider by an earlier version.
func TestSQLiteFileIsPrivate(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "state")
		path := filepath.Join(dir, "lethe.db")
		if existing {
			db, err := state.Open(context.Background(), "sqlite://"+path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			for p, m := range map[string]os.FileMode{dir: 0o755, path: 0o644} {
				if err := os.Chmod(p, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		db, err := state.Open(context.Background(), "sqlite://"+path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec("CREATE TABLE mode_probe (x int); INSERT INTO mode_probe VALUES (1)").Error; err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("existing %v: %v", existing, err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("existing %v: %s is %v, want %v", existing, filepath.Base(p), fi.Mode().Perm(), want)
			}
		}
		db.Close()
	}
}
