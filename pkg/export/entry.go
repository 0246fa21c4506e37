package export

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// ManifestEntry describes one entry of the ZIP.
type ManifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   *int64 `json:"rows,omitempty"` // for data entries
}

// hashWriter passes writes to w, counting and hashing them.
type hashWriter struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, h: sha256.New()} }

func (hw *hashWriter) Write(p []byte) (int, error) {
	hw.h.Write(p)
	hw.size += int64(len(p))
	return hw.w.Write(p)
}

func (hw *hashWriter) entry(name string) ManifestEntry {
	return ManifestEntry{Name: name, Size: hw.size, SHA256: hex.EncodeToString(hw.h.Sum(nil))}
}
