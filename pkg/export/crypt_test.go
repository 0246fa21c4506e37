package export_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/export"
)

func encrypt(t *testing.T, key []byte, label string, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.Encrypt(&buf, key, label)
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes cross chunk boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7919)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decrypt(key []byte, label string, sealed []byte) ([]byte, error) {
	r, err := export.Decrypt(bytes.NewReader(sealed), key, label)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestEncryptRoundTrip(t *testing.T) {
	key := make([]byte, export.KeySize)
	rand.Read(key)
	for _, size := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 * 64 << 10, 200_001} {
		plain := make([]byte, size)
		rand.Read(plain)
		sealed := encrypt(t, key, "req-1", plain)
		got, err := decrypt(key, "req-1", sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip failed: %v", size, err)
		}
		if size > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Errorf("size %d: plaintext visible in the sealed bytes", size)
		}
	}
}

func TestEncryptRefusesTampering(t *testing.T) {
	key := bytes.Repeat([]byte{1}, export.KeySize)
	plain := bytes.Repeat([]byte("personal data "), 20000) // several chunks
	sealed := encrypt(t, key, "req-1", plain)
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	cases := map[string]struct {
		key    []byte
		label  string
		sealed []byte
	}{
		"wrong key":       {bytes.Repeat([]byte{2}, export.KeySize), "req-1", sealed},
		"another request": {key, "req-2", sealed},
		"a flipped bit":   {key, "req-1", flipped},
		"cut at a chunk":  {key, "req-1", sealed[:8+32+(64<<10+16)]},
		"cut mid-chunk":   {key, "req-1", sealed[:len(sealed)-5]},
		"last chunk gone": {key, "req-1", sealed[:8+32+2*(64<<10+16)]},
		"not a package":   {key, "req-1", []byte("PK\x03\x04 a plain zip")},
	}
	for name, tc := range cases {
		if _, err := decrypt(tc.key, tc.label, tc.sealed); !errors.Is(err, export.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	for _, s := range []string{hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw), " " + hex.EncodeToString(raw) + "\n"} {
		if k, err := export.ParseKey(s); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(raw[:16]), hex.EncodeToString(raw) + "00"} {
		if _, err := export.ParseKey(s); !errors.Is(err, export.ErrKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrKey", s, err)
		}
	}
}
