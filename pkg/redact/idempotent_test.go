package redact_test

import (
	"bufio"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// TestRedactTwiceIsOnce: no pseudonym is itself found again, for any line
// of the corpus: what keeps the redact retention action from rewriting a
// row twice.
func TestRedactTwiceIsOnce(t *testing.T) {
	k, err := redact.NewKeyring([]byte("idempotence-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(redact.Corpus())
	for n := 1; sc.Scan(); n++ {
		for _, tenant := range []string{"calm-mind", "career-coach"} {
			once, _ := k.For(tenant).Redact(sc.Text())
			if twice, spans := k.For(tenant).Redact(once); twice != once {
				t.Errorf("corpus line %d: a second pass found %v in %q", n, spans, once)
			}
		}
	}
}
