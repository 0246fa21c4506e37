package export

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// KeySize is the length of LETHE_EXPORT_KEY: AES-256.
const KeySize = 32

// ErrKey is returned by ParseKey for a key that is not 32 bytes in hex or base64.
var ErrKey = errors.New("LETHE_EXPORT_KEY must be 32 bytes written as 64 hex digits or in base64 (openssl rand -hex 32)")

// ParseKey decodes an export key written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not). Errors: ErrKey.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, ErrKey
}
