package export

import (
	"bufio"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// Packages are age files (https://age-encryption.org/v1, filippo.io/age):
// ChaCha20-Poly1305 in 64 KiB chunks under a random file key, wrapped for
// one X25519 recipient derived from LETHE_EXPORT_KEY (see AgeIdentity), so
// that an operator can also decrypt a package offline with the age tool.
// The header carries a second stanza, "lethe-label", naming what the file
// belongs to (the request id); age authenticates the whole header with the
// file key, and Decrypt refuses a file whose label is not the one asked
// for, so a package cannot be passed off as another request's. age ignores
// the stanza it does not know.
const (
	ageMagic    = "age-encryption.org/v1\n"
	labelStanza = "lethe-label"
	// ageIdentityInfo is the HKDF info of the age identity: changing it
	// changes every package's key.
	ageIdentityInfo = "lethe export age identity v1"
)

// ErrCorrupt is returned when an encrypted package fails to decrypt: a
// wrong key, a file altered, truncated or belonging to another label.
var ErrCorrupt = errors.New("export: the package does not decrypt: wrong key, or altered or truncated")

// AgeIdentity returns the age X25519 identity of key (LETHE_EXPORT_KEY's
// 32 bytes): the scalar is HKDF-SHA256 of key with an empty salt and the
// info "lethe export age identity v1", 32 bytes. Its String() is the key
// file line (AGE-SECRET-KEY-1…) that `age -d -i` reads; deploy/
// age-identity.py computes the same line without Lethe. Errors: ErrKey.
func AgeIdentity(key []byte) (*age.X25519Identity, error) {
	if len(key) != KeySize {
		return nil, ErrKey
	}
	scalar, err := hkdf.Key(sha256.New, key, nil, ageIdentityInfo, 32)
	if err != nil {
		return nil, err
	}
	id, err := age.ParseX25519Identity(strings.ToUpper(bech32Encode("age-secret-key-", scalar)))
	if err != nil {
		return nil, fmt.Errorf("export: age identity: %w", err)
	}
	return id, nil
}

// Encrypt returns a writer that encrypts what it is given to w as an age
// file for the identity of key, bound to label; Close writes the last
// chunk (it does not close w). Errors: ErrKey; w's errors.
func Encrypt(w io.Writer, key []byte, label string) (io.WriteCloser, error) {
	id, err := AgeIdentity(key)
	if err != nil {
		return nil, err
	}
	return age.Encrypt(w, id.Recipient(), labelRecipient(label))
}

// Decrypt returns a reader of what Encrypt wrote to r under key, or one of
// previous (the keys key replaced), and label, or of a package in the
// legacy format that came before (see decryptLegacy, which knows key
// only), told apart by their first bytes. Errors (from Decrypt or the
// reader): ErrKey; ErrCorrupt for a wrong key or label, or a file altered
// or truncated, joined with the cause.
func Decrypt(r io.Reader, key []byte, label string, previous ...[]byte) (io.Reader, error) {
	if len(key) != KeySize {
		return nil, ErrKey
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(ageMagic))
	switch {
	case strings.HasPrefix(string(head), legacyMagic):
		return decryptLegacy(br, key, label)
	case string(head) != ageMagic:
		return nil, ErrCorrupt
	}
	var ids []age.Identity
	for _, k := range append([][]byte{key}, previous...) {
		id, err := AgeIdentity(k)
		if err != nil {
			return nil, err
		}
		ids = append(ids, labelIdentity{id: id, label: label})
	}
	dr, err := age.Decrypt(br, ids...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return corruptReader{dr}, nil
}

// labelRecipient adds the lethe-label stanza to a file's header. It wraps
// nothing: the file key is not in it.
type labelRecipient string

func (l labelRecipient) Wrap([]byte) ([]*age.Stanza, error) {
	return []*age.Stanza{{Type: labelStanza, Args: []string{labelArg(string(l))}}}, nil
}

// labelArg encodes label for a stanza argument, which must be printable
// ASCII without spaces.
func labelArg(label string) string { return base64.RawStdEncoding.EncodeToString([]byte(label)) }

// labelIdentity unwraps a file only when its header names label.
type labelIdentity struct {
	id    *age.X25519Identity
	label string
}

func (l labelIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	found := false
	for _, s := range stanzas {
		if s.Type != labelStanza {
			continue
		}
		if len(s.Args) != 1 || s.Args[0] != labelArg(l.label) || found {
			return nil, errors.New("the package belongs to another request")
		}
		found = true
	}
	if !found {
		return nil, errors.New("the package names no request")
	}
	return l.id.Unwrap(stanzas)
}

// corruptReader marks age's errors while reading, such as a truncated or
// altered chunk, as ErrCorrupt.
type corruptReader struct{ r io.Reader }

func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return n, err
}
