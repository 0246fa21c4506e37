package blobstore

import (
	"errors"
	"fmt"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// fileDir returns the folder of a file:// bucket URL as gocloud's fileblob
// opens it: the URL's path, relative when the host is ".".
func fileDir(u *neturl.URL) string {
	p := u.Path
	if u.Host == "." || os.PathSeparator != '/' {
		p = strings.TrimPrefix(p, "/")
	}
	return filepath.FromSlash(p)
}

// checkLinks refuses, in a file:// bucket, a key whose file is a symbolic
// link or that sits under a symbolic link to a folder: the bucket's folder
// would not confine it, and reading or deleting through it could reach any
// file the service may touch. Each folder of the key is examined with
// Lstat, from the bucket's folder down, up to the first that does not
// exist (nothing below it can be followed). The bucket's own folder may be
// a link: the operator chose it.
func (s *Store) checkLinks(key string) error {
	if s.dir == "" {
		return nil
	}
	p := s.dir
	for _, part := range strings.Split(key, "/") {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			return nil
		case err != nil:
			// The error repeats the path, which may carry personal data.
			return dsr.Errorf(dsr.EUNAVAILABLE, "blob store %s: cannot examine a key's folder", s.name)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("store %s: %w (a symbolic link)", s.name, engine.ErrUnsafeKey)
		}
	}
	return nil
}
