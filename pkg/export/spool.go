package export

import (
	"archive/zip"
	"compress/flate"
	"crypto/rand"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"time"
)

// spool compresses one ZIP entry into a temporary file while another entry
// is being written, and appends it to the ZIP afterwards without
// compressing it again. The temporary file is encrypted under a key that
// lives only in memory and is removed on close: nothing readable is left
// on disk, even after a crash.
type spool struct {
	name string
	file *os.File
	key  []byte
	enc  io.WriteCloser
	cw   *countWriter
	fw   *flate.Writer
	crc  hash.Hash32
	hw   *hashWriter
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newSpool creates the spool of entry name in dir ("" for the system's).
func newSpool(dir, name string) (*spool, error) {
	f, err := os.CreateTemp(dir, "lethe-spool-*")
	if err != nil {
		return nil, fmt.Errorf("export: spool: %w", err)
	}
	s := &spool{name: name, file: f, key: make([]byte, KeySize), crc: crc32.NewIEEE()}
	if _, err := rand.Read(s.key); err != nil {
		s.remove()
		return nil, err
	}
	if s.enc, err = Encrypt(f, s.key, "spool"); err != nil {
		s.remove()
		return nil, err
	}
	s.cw = &countWriter{w: s.enc}
	s.fw, _ = flate.NewWriter(s.cw, compressionLevel)
	s.hw = newHashWriter(io.MultiWriter(s.fw, s.crc))
	return s, nil
}

// Write takes the entry's uncompressed content.
func (s *spool) Write(p []byte) (int, error) { return s.hw.Write(p) }

// appendTo finishes the spool and copies it into z as a deflated entry,
// returning its manifest entry. The spool is removed in every case.
func (s *spool) appendTo(z *zip.Writer, modified time.Time) (ManifestEntry, error) {
	defer s.remove()
	if err := s.fw.Close(); err != nil {
		return ManifestEntry{}, err
	}
	if err := s.enc.Close(); err != nil {
		return ManifestEntry{}, err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return ManifestEntry{}, err
	}
	fh := &zip.FileHeader{Name: s.name, Method: zip.Deflate, Modified: modified,
		CRC32: s.crc.Sum32(), CompressedSize64: uint64(s.cw.n), UncompressedSize64: uint64(s.hw.size)}
	// CreateRaw, unlike CreateHeader, does not fill the MS-DOS time fields
	// from Modified; without them unzip shows 1980-00-00.
	fh.SetModTime(modified) //nolint:staticcheck // the MS-DOS fields are what unzip reads
	w, err := z.CreateRaw(fh)
	if err != nil {
		return ManifestEntry{}, err
	}
	r, err := Decrypt(s.file, s.key, "spool")
	if err != nil {
		return ManifestEntry{}, err
	}
	if _, err := io.Copy(w, r); err != nil {
		return ManifestEntry{}, fmt.Errorf("export: append %s: %w", s.name, err)
	}
	return s.hw.entry(s.name), nil
}

func (s *spool) remove() {
	s.file.Close()
	os.Remove(s.file.Name())
}
