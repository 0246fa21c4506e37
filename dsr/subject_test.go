package dsr_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
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
