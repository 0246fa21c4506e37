package export

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The encrypted format: magic, a random salt, then chunks. Each chunk seals
// up to chunkSize bytes with AES-256-GCM under HKDF-SHA256(key, salt), the
// nonce being the chunk's number; its additional data is the caller's
// label (the request id) and a flag marking the last chunk. Every chunk but
// the last is full, and the last is always short (possibly empty), so a
// reader knows which chunk must be the last and a truncated file fails.
const (
	magic     = "LETHEX1\x00"
	saltSize  = 32
	chunkSize = 64 << 10
)

// ErrCorrupt is returned when an encrypted package fails to decrypt: a
// wrong key, a file altered, truncated or belonging to another label.
var ErrCorrupt = errors.New("export: the package does not decrypt: wrong key, or altered or truncated")

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

// encrypter is the io.WriteCloser Encrypt returns.
type encrypter struct {
	w     io.Writer
	aead  cipher.AEAD
	label string
	buf   []byte
	out   []byte
	n     uint64
	err   error
}

// Encrypt returns a writer that encrypts what it is given to w under key,
// bound to label; Close writes the last chunk (it does not close w).
// Errors: a key that is not KeySize bytes; w's errors.
func Encrypt(w io.Writer, key []byte, label string) (io.WriteCloser, error) {
	if len(key) != KeySize {
		return nil, ErrKey
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	aead, err := newAEAD(key, salt)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append([]byte(magic), salt...)); err != nil {
		return nil, err
	}
	return &encrypter{w: w, aead: aead, label: label, buf: make([]byte, 0, chunkSize), out: make([]byte, 0, chunkSize+16)}, nil
}

func (e *encrypter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n := 0
	for len(p) > 0 {
		k := copy(e.buf[len(e.buf):chunkSize], p)
		e.buf = e.buf[:len(e.buf)+k]
		p, n = p[k:], n+k
		if len(e.buf) == chunkSize {
			if e.err = e.seal(false); e.err != nil {
				return n, e.err
			}
		}
	}
	return n, nil
}

func (e *encrypter) seal(final bool) error {
	e.out = e.aead.Seal(e.out[:0], nonce(e.n), e.buf, chunkAD(e.label, final))
	e.n++
	e.buf = e.buf[:0]
	_, err := e.w.Write(e.out)
	return err
}

// Close seals the last, short chunk.
func (e *encrypter) Close() error {
	if e.err != nil {
		return e.err
	}
	e.err = e.seal(true)
	if e.err == nil {
		e.err = errors.New("export: encrypter closed")
		return nil
	}
	return e.err
}

// decrypter is the io.Reader Decrypt returns.
type decrypter struct {
	r     io.Reader
	aead  cipher.AEAD
	label string
	in    []byte
	plain []byte
	n     uint64
	done  bool
}

// Decrypt returns a reader of what Encrypt wrote to r under key and label.
// Errors (from Decrypt or the reader): ErrCorrupt for a wrong key or label,
// or a file altered or truncated; r's errors.
func Decrypt(r io.Reader, key []byte, label string) (io.Reader, error) {
	if len(key) != KeySize {
		return nil, ErrKey
	}
	head := make([]byte, len(magic)+saltSize)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if string(head[:len(magic)]) != magic {
		return nil, ErrCorrupt
	}
	aead, err := newAEAD(key, head[len(magic):])
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
