// Package private gives the files Lethe writes owner-only modes: 0600 for
// files, 0700 for folders. They hold personal data (the state store's
// SQLite file, access packages in a file:// bucket, the demo's database
// and uploads), so no other account on the machine may read them, and
// that holds for files that already exist with wider modes too: each
// function tightens what it finds.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File and Folder are the modes Lethe gives what it writes.
const (
	File   fs.FileMode = 0o600
	Folder fs.FileMode = 0o700
)

// Dir creates path and its missing parents with mode Folder and sets
// path itself to Folder if it already existed, unless it is Shared (a
// state file put in /tmp must not close /tmp to everyone else). Parents
// that existed are left alone: they may be shared (/var/lib).
func Dir(path string) error {
	if err := os.MkdirAll(path, Folder); err != nil {
		return fmt.Errorf("create folder %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("create folder %s: %w", path, err)
	}
	if Shared(fi.Mode()) {
		return nil
	}
	if err := os.Chmod(path, Folder); err != nil {
		return fmt.Errorf("make folder %s private: %w", path, err)
	}
	return nil
}

// Create creates the file at path with mode File if it does not exist,
// and sets it to File if it does; its folder is made by Dir. Nothing is
// written: the caller (a database driver, say) opens it next, and what
// it creates beside it follows the file's mode.
func Create(path string) error {
	if err := Dir(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, File)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return Chmod(path)
}

// Chmod sets the file at path to File; a missing file is no error.
func Chmod(path string) error {
	if err := os.Chmod(path, File); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("make %s private: %w", path, err)
	}
	return nil
}

// Shared tells a folder that other users write into by design, such as
// /tmp: the sticky bit says so, and Lethe never changes its mode. A folder
// writable by everyone without it is no shared folder but an open one,
// where anyone could replace the state file: Dir tightens it.
func Shared(m fs.FileMode) bool {
	return m&fs.ModeSticky != 0
}

// Tree makes root with Dir, then every folder under it Folder and every
// regular file File. Symbolic links are not followed. Errors: root is a
// Shared folder (its files are other users'; Lethe needs one of its own).
func Tree(root string) error {
	if fi, err := os.Stat(root); err == nil && fi.IsDir() && Shared(fi.Mode()) {
		return fmt.Errorf("folder %s is shared with other users (mode %v): give Lethe a folder of its own", root, fi.Mode())
	}
	if err := Dir(root); err != nil {
		return err
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile (another replica's sweep): nothing to tighten
		}
		if err != nil {
			return fmt.Errorf("make %s private: %w", path, err)
		}
		switch {
		case d.IsDir():
			err = os.Chmod(path, Folder)
		case d.Type().IsRegular():
			err = os.Chmod(path, File)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", path, err)
		}
		return nil
	})
}

// BeforeWrite is a gocloud blob.WriterOptions.BeforeWrite that makes a
// file:// bucket write its object File (fileblob creates it 0666 less the
// umask): the temporary file, renamed into place, gets the mode before
// anything is written. Other buckets are left to their own access control.
func BeforeWrite(as func(any) bool) error {
	var f *os.File
	if as(&f) && f != nil {
		return f.Chmod(File)
	}
	return nil
}
