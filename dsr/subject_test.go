package dsr_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestSubjectKeysAreSeparate: the audit subject, each tenant's view, the
// anonymisation pseudonym, the legacy subject and Lethe's own MACs are all
// different values for one email, each stable and case-blind, and none is
// computed with the secret a value of another use is.
func TestSubjectKeysAreSeparate(t *testing.T) {
	h := dsr.NewSubjectHasher([]byte("subject-test-key-0123456789abcdef"))
	const email = "Ada@example.com"
	audit := h.Subject(email)
	values := map[string]string{
		"audit":        string(audit),
		"legacy":       string(h.Legacy(email)),
		"tenant acme":  string(h.TenantView("acme", audit)),
		"tenant other": string(h.TenantView("other", audit)),
		"anonymized":   h.Anonymize(email),
		"sign":         h.Sign("self-link", []byte(email)),
	}
	seen := map[string]string{}
	for use, v := range values {
		if !hex64.MatchString(v) {
			t.Errorf("%s = %q, want 64 hex digits", use, v)
		}
		if prev, ok := seen[v]; ok {
			t.Errorf("%s and %s give the same value %s", use, prev, v)
		}
		seen[v] = use
	}
	if h.Subject("ada@EXAMPLE.com") != audit || h.Anonymize("ADA@example.com") != values["anonymized"] {
		t.Error("values differ by case of the address")
	}
	if h.TenantView("acme", audit) != dsr.Subject(values["tenant acme"]) {
		t.Error("a tenant's view is not stable")
	}
	if h.TenantView("", audit) != audit {
		t.Error("the admin's view is not the audit subject")
	}
	other := dsr.NewSubjectHasher([]byte("another-key-0123456789abcdef0123"))
	if other.Subject(email) == audit || other.Anonymize(email) == values["anonymized"] {
		t.Error("another secret gives the same values")
	}
}

// TestLegacyIsTheOldHash: requests filed before keys were derived carry
// hex(HMAC-SHA256(secret, lower(email))), with no sigma folding; Legacy must
// give exactly that, or an erasure misses a Greek address's old copies.
func TestLegacyIsTheOldHash(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	email := "Οδυσσεύς@example.gr"
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.ToLower(email)))
	if got, want := dsr.NewSubjectHasher(secret).Legacy(email), dsr.Subject(hex.EncodeToString(m.Sum(nil))); got != want {
		t.Errorf("Legacy = %s, want the old hash %s", got, want)
	}
}

// TestSubjectHasherPrevious: a hasher with a previous key makes values
// with the current key only, and matches values made with either: the
// subjects of an email, the key whose subject a row carries, and tokens
// signed before the rotation. A key fingerprint is short, stable and does
// not reveal the key.
func TestSubjectHasherPrevious(t *testing.T) {
	oldKey, newKey := []byte("old-subject-key-of-at-least-32-characters"), []byte("new-subject-key-of-at-least-32-characters")
	old := dsr.NewSubjectHasher(oldKey)
	h := dsr.NewSubjectHasher(newKey).WithPrevious(oldKey)
	const email = "Rotated.Person@example.com"
	if h.Subject(email) != dsr.NewSubjectHasher(newKey).Subject(email) || h.Sign("p", []byte("d")) != dsr.NewSubjectHasher(newKey).Sign("p", []byte("d")) {
		t.Fatal("a previous key changed what the current key makes")
	}
	if !slices.Contains(h.Subjects(email), old.Subject(email)) || !slices.Contains(h.Subjects(email), old.Legacy(email)) {
		t.Errorf("Subjects %v lacks the old key's subjects", h.Subjects(email))
	}
	if got := h.Match(email, old.Subject(email)); got != dsr.KeyID(oldKey) {
		t.Errorf("Match of an old subject = %q; want the old key's id %q", got, dsr.KeyID(oldKey))
	}
	if got := h.Match(email, h.Subject(email)); got != h.KeyID() {
		t.Errorf("Match of a current subject = %q; want %q", got, h.KeyID())
	}
	if got := h.Match("someone.else@example.com", old.Subject(email)); got != "" {
		t.Errorf("Match of another person's subject = %q; want none", got)
	}
	sig := old.Sign("self-link", []byte("token"))
	if !h.Signed("self-link", []byte("token"), sig) || h.Signed("self-link", []byte("other"), sig) || h.Signed("self-code", []byte("token"), sig) {
		t.Error("Signed does not tell a token signed with the old key from others")
	}
	if dsr.NewSubjectHasher(newKey).Signed("self-link", []byte("token"), sig) {
		t.Error("without the previous key an old token is still accepted")
	}
	if ids := h.KeyIDs(); len(ids) != 2 || ids[0] != dsr.KeyID(newKey) || ids[1] != dsr.KeyID(oldKey) {
		t.Errorf("KeyIDs = %v", ids)
	}
	if id := dsr.KeyID(oldKey); len(id) != 16 || strings.Contains(string(oldKey), id) || id == dsr.KeyID(newKey) {
		t.Errorf("KeyID = %q; want 16 hex digits, distinct per key", id)
	}
}
