package redact_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

func TestKeyring(t *testing.T) {
	if _, err := redact.NewKeyring([]byte("short")); !errors.Is(err, redact.ErrShortSecret) {
		t.Fatalf("short secret: %v", err)
	}
	k, err := redact.NewKeyring([]byte("keyring-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	const text = "Write to ada@example.com or call +44 20 7946 0958."
	a1, _ := k.For("calm-mind").Redact(text)
	a2, _ := k.For("calm-mind").Redact(text)
	b, _ := k.For("career-coach").Redact(text)
	none, _ := k.For("").Redact(text)
	if a1 != a2 {
		t.Errorf("same tenant, two results: %q, %q", a1, a2)
	}
	if a1 == b || a1 == none || strings.Contains(a1, "ada@example.com") {
		t.Errorf("tenants share pseudonyms or the value stayed: %q %q %q", a1, b, none)
	}
	// A redacted text holds nothing to redact: a second pass is a no-op,
	// which is how the redact retention action stays idempotent.
	if again, spans := k.For("calm-mind").Redact(a1); again != a1 || spans != nil {
		t.Errorf("second pass changed %q to %q", a1, again)
	}
}
