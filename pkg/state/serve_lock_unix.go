//go:build unix

package state

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting: the kernel drops
// it when the process dies, however it dies.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
