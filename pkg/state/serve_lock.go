package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/private"
)

// ServeLock is the hold of one lethe serve on an embedded SQLite state
// file. SQLite serves one process: two would both take the other's running
// work for orphaned, and a second writer only waits on the first.
type ServeLock struct {
	file *os.File
}

// ErrServed is returned by LockServe when another process serves the file.
var ErrServed = errors.New("state store is served by another process")

// LockServe takes the lock of the state store at url for this process: an
// exclusive lock on the file PATH.lock beside a SQLite store, released by
// Release or by the process's death (so a killed process never leaves it
// behind). A Postgres store needs none: replicas share it. When another
// lethe serve holds the lock, the error wraps ErrServed and names that
// process.
func LockServe(url string) (*ServeLock, error) {
	if !strings.HasPrefix(url, "sqlite://") && url != "" {
		return &ServeLock{}, nil
	}
	if url == "" {
		url = DefaultURL
	}
	path := strings.TrimPrefix(url, "sqlite://") + ".lock"
	if err := private.Dir(filepath.Dir(path)); err != nil { // a first start: the store's folder is not there yet
		return nil, fmt.Errorf("state: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: open lock file %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "another process"
		}
		return nil, fmt.Errorf("%w: %s already serves %s (lock %s); a SQLite state store is served by one lethe serve at a time: stop that one first, or use a Postgres state store (LETHE_DATABASE_URL=postgres://…) to run replicas",
			ErrServed, who, url, path)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "lethe serve pid %d on host %s\n", os.Getpid(), host)
	}
	return &ServeLock{file: f}, nil
}

// Release gives the lock up.
func (l *ServeLock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	_ = unlockFile(l.file)
	return l.file.Close()
}

// Exclusive reports whether this lock makes the process the store's only
// server (SQLite): every other process's work is then orphaned.
func (l *ServeLock) Exclusive() bool { return l != nil && l.file != nil }
