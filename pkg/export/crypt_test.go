package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"gocloud.dev/blob/memblob"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/state"
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
		if !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) {
			t.Fatalf("size %d: not an age file: %q", size, sealed[:min(len(sealed), 24)])
		}
		got, err := decrypt(key, "req-1", sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip failed: %v", size, err)
		}
		if size > 16 && bytes.Contains(sealed, plain[:16]) {
			t.Errorf("size %d: plaintext visible in the sealed bytes", size)
		}
	}
}

// payloadStart is where an age file's chunks begin: after the header's
// last line ("--- MAC") and the 16-byte nonce.
func payloadStart(t *testing.T, sealed []byte) int {
	t.Helper()
	i := bytes.Index(sealed, []byte("\n--- "))
	if i < 0 {
		t.Fatal("no age header end")
	}
	return i + 1 + bytes.IndexByte(sealed[i+1:], '\n') + 1 + 16
}

func TestEncryptRefusesTampering(t *testing.T) {
	key := bytes.Repeat([]byte{1}, export.KeySize)
	plain := bytes.Repeat([]byte("personal data "), 20000) // several chunks
	sealed := encrypt(t, key, "req-1", plain)
	start, chunk := payloadStart(t, sealed), 64<<10+16
	flipped := bytes.Clone(sealed)
	flipped[start+len(plain)/2] ^= 1
	relabelled := bytes.Replace(sealed, []byte("lethe-label "+base64.RawStdEncoding.EncodeToString([]byte("req-1"))),
		[]byte("lethe-label "+base64.RawStdEncoding.EncodeToString([]byte("req-2"))), 1)
	if bytes.Equal(relabelled, sealed) {
		t.Fatal("no lethe-label stanza in the header")
	}
	cases := map[string]struct {
		key    []byte
		label  string
		sealed []byte
	}{
		"wrong key":             {bytes.Repeat([]byte{2}, export.KeySize), "req-1", sealed},
		"another request":       {key, "req-2", sealed},
		"label rewritten":       {key, "req-2", relabelled},
		"a flipped bit":         {key, "req-1", flipped},
		"cut at a chunk":        {key, "req-1", sealed[:start+chunk]},
		"cut mid-chunk":         {key, "req-1", sealed[:len(sealed)-5]},
		"last chunk gone":       {key, "req-1", sealed[:start+2*chunk]},
		"header only":           {key, "req-1", sealed[:start]},
		"not a package":         {key, "req-1", []byte("PK\x03\x04 a plain zip")},
		"legacy, another label": {key, "req-1", legacyPackage(t)},
	}
	for name, tc := range cases {
		if _, err := decrypt(tc.key, tc.label, tc.sealed); !errors.Is(err, export.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// The legacy package in testdata was written by the format before age
// (LETHEX1: AES-256-GCM chunks), under legacyKey for request req-legacy.
var legacyPlain = []byte(strings.Repeat("personal data of req-legacy\n", 2600))

func legacyKey() []byte {
	key := make([]byte, export.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	return key
}

func legacyPackage(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/legacy-req-legacy.zip.lethe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("LETHEX1\x00")) {
		t.Fatal("testdata/legacy-req-legacy.zip.lethe is not in the legacy format")
	}
	return raw
}

// TestLegacyPackageStillReads: a package written before age (two chunks)
// decrypts, and refuses a wrong key, another request and truncation.
func TestLegacyPackageStillReads(t *testing.T) {
	raw := legacyPackage(t)
	got, err := decrypt(legacyKey(), "req-legacy", raw)
	if err != nil || !bytes.Equal(got, legacyPlain) {
		t.Fatalf("legacy package: %d bytes, %v; want %d bytes", len(got), err, len(legacyPlain))
	}
	for name, tc := range map[string]struct {
		key   []byte
		label string
		raw   []byte
	}{
		"wrong key":       {bytes.Repeat([]byte{9}, export.KeySize), "req-legacy", raw},
		"another request": {legacyKey(), "req-other", raw},
		"cut":             {legacyKey(), "req-legacy", raw[:len(raw)-5]},
	} {
		if _, err := decrypt(tc.key, tc.label, tc.raw); !errors.Is(err, export.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// TestLegacyPackageServed: a package recorded before age is still served
// by the export service until it expires.
func TestLegacyPackageServed(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	if err := bucket.WriteAll(ctx, "req-legacy.zip.lethe", legacyPackage(t), nil); err != nil {
		t.Fatal(err)
	}
	records := &state.ExportStore{DB: openState(t, state.SQLite)}
	now := time.Now().UTC().Truncate(time.Second)
	if err := records.SaveExport(ctx, &dsr.Export{RequestID: "req-legacy", Object: "req-legacy.zip.lethe",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	svc := &export.Service{Bucket: bucket, Key: legacyKey(), Records: records}
	_, rc, err := svc.OpenRequest(ctx, &dsr.Request{ID: "req-legacy", Type: dsr.TypeAccess, Status: dsr.StatusCompleted})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, legacyPlain) {
		t.Fatalf("served %d bytes, %v; want the legacy package's %d", len(got), err, len(legacyPlain))
	}
}

// TestPackageDecryptsWithAgeAlone: the key file printed by the documented
// recipe, deploy/age-identity.py (standard Python, no Lethe), decrypts a
// package with the age library and nothing of Lethe's; Lethe's own
// AgeIdentity prints the same line.
func TestPackageDecryptsWithAgeAlone(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 runs the documented recipe deploy/age-identity.py: %v", err)
	}
	key := make([]byte, export.KeySize)
	rand.Read(key)
	plain := bytes.Repeat([]byte("a row of Ada's data\n"), 5000)
	sealed := encrypt(t, key, "req-offline", plain)
	for _, written := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key)} {
		cmd := exec.Command(python, "../../deploy/age-identity.py")
		cmd.Env = append(os.Environ(), "LETHE_EXPORT_KEY="+written)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("deploy/age-identity.py: %v", err)
		}
		line := strings.TrimSpace(string(out))
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			t.Fatalf("the recipe printed %q: %v", line, err)
		}
		r, err := age.Decrypt(bytes.NewReader(sealed), id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("age decrypted %d bytes, %v; want %d", len(got), err, len(plain))
		}
		own, err := export.AgeIdentity(key)
		if err != nil || own.String() != line {
			t.Errorf("AgeIdentity = %v (%v), the recipe says %s", own, err, line)
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

// TestPackageOfPreviousKeyServed: a package encrypted with the export key
// before a rotation is served while that key is in Previous; once it is
// dropped, the answer says where to put it back, never the key itself, and
// names its fingerprint to the server log only.
func TestPackageOfPreviousKeyServed(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	oldKey, newKey := bytes.Repeat([]byte{1}, export.KeySize), bytes.Repeat([]byte{2}, export.KeySize)
	plain := []byte("the package of one person")
	if err := bucket.WriteAll(ctx, "req-old.zip.age", encrypt(t, oldKey, "req-old", plain), nil); err != nil {
		t.Fatal(err)
	}
	records := &state.ExportStore{DB: openState(t, state.SQLite)}
	now := time.Now().UTC().Truncate(time.Second)
	if err := records.SaveExport(ctx, &dsr.Export{RequestID: "req-old", Object: "req-old.zip.age",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), KeyID: dsr.KeyID(oldKey)}); err != nil {
		t.Fatal(err)
	}
	req := &dsr.Request{ID: "req-old", Type: dsr.TypeAccess, Status: dsr.StatusCompleted}
	rotated := &export.Service{Bucket: bucket, Key: newKey, Previous: [][]byte{oldKey}, Records: records}
	_, rc, err := rotated.OpenRequest(ctx, req)
	if err != nil {
		t.Fatalf("with the old key previous: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("served %q, %v; want %q", got, err, plain)
	}
	dropped := &export.Service{Bucket: bucket, Key: newKey, Records: records}
	_, _, err = dropped.OpenRequest(ctx, req)
	if dsr.ErrorCode(err) != dsr.EUNAVAILABLE || !strings.Contains(err.Error(), dsr.KeyID(oldKey)) ||
		!strings.Contains(dsr.ErrorMessage(err), "LETHE_EXPORT_KEY_PREVIOUS") || strings.Contains(err.Error(), hex.EncodeToString(oldKey)) {
		t.Fatalf("with the old key dropped: %v; want EUNAVAILABLE naming its fingerprint for the log and LETHE_EXPORT_KEY_PREVIOUS", err)
	}
	// The caller's message leaves the fingerprint out: with it, a weak key
	// could be tested offline.
	if msg := dsr.ErrorMessage(err); strings.Contains(msg, dsr.KeyID(oldKey)) {
		t.Fatalf("the caller's message names the key's fingerprint: %s", msg)
	}
}
