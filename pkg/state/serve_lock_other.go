//go:build !unix

package state

import "os"

// lockFile is a no-op where flock is missing: run one lethe serve per
// SQLite state file by hand there.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
