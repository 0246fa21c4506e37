package export

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// The legacy format, written before packages were age files and read
// until the last of them expires: magic, a random salt, then chunks. Each chunk seals
// up to chunkSize bytes with AES-256-GCM under HKDF-SHA256(key, salt), the
// nonce being the chunk's number; its additional data is the caller's
// label (the request id) and a flag marking the last chunk. Every chunk but
// the last is full, and the last is always short (possibly empty), so a
// reader knows which chunk must be the last and a truncated file fails.
const (
	legacyMagic = "LETHEX1\x00"
	saltSize    = 32
	chunkSize   = 64 << 10
)

func newAEAD(key, salt []byte) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, key, salt, "lethe export v1", KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkAD(label string, final bool) []byte {
	ad := append([]byte(label), 0)
	if final {
		ad[len(ad)-1] = 1
	}
	return ad
}

func nonce(n uint64) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b[4:], n)
	return b
}

// decrypter reads the legacy format.
type decrypter struct {
	r     io.Reader
	aead  cipher.AEAD
	label string
	in    []byte
	plain []byte
	n     uint64
	done  bool
}

// decryptLegacy returns a reader of a legacy package r under key and
// label. Errors (from decryptLegacy or the reader): ErrCorrupt for a wrong
// key or label, or a file altered or truncated; r's errors.
func decryptLegacy(r io.Reader, key []byte, label string) (io.Reader, error) {
	head := make([]byte, len(legacyMagic)+saltSize)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if string(head[:len(legacyMagic)]) != legacyMagic {
		return nil, ErrCorrupt
	}
	aead, err := newAEAD(key, head[len(legacyMagic):])
	if err != nil {
		return nil, err
	}
	return &decrypter{r: r, aead: aead, label: label, in: make([]byte, chunkSize+16)}, nil
}

func (d *decrypter) Read(p []byte) (int, error) {
	for len(d.plain) == 0 {
		if d.done {
			return 0, io.EOF
		}
		k, err := io.ReadFull(d.r, d.in)
		final := false
		switch {
		case err == io.ErrUnexpectedEOF:
			final = true
		case err == io.EOF:
			return 0, ErrCorrupt // no last chunk: truncated
		case err != nil:
			return 0, err
		}
		plain, oerr := d.aead.Open(d.in[:0], nonce(d.n), d.in[:k], chunkAD(d.label, final))
		if oerr != nil {
			return 0, ErrCorrupt
		}
		d.n++
		d.plain, d.done = plain, final
	}
	k := copy(p, d.plain)
	d.plain = d.plain[k:]
	return k, nil
}
