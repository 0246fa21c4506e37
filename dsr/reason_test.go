package dsr

import (
	"strings"
	"testing"
)

// TestReasonHoldsNoPersonalData: the reason a request is denied or
// cancelled with is kept for good in the audit trail, so one holding an
// address, a phone number, an IBAN or a card number is refused, in plain
// words that do not repeat it; an ordinary reason passes, trimmed.
func TestReasonHoldsNoPersonalData(t *testing.T) {
	for _, check := range []func(string) (string, error){CheckDenialReason, CheckCancelReason} {
		for _, c := range []struct{ reason, words, value string }{
			{"ada@example.com asked twice", "email addresses", "ada@"},
			{"called her on +44 20 7946 0958", "phone numbers", "7946"},
			{"she gave 020 7946 0958 to call back", "phone numbers", "7946"},
			{"refund to GB82 WEST 1234 5698 7654 32 first", "bank account numbers", "WEST"},
			{"paid with 4111 1111 1111 1111", "card numbers", "4111"},
		} {
			_, err := check(c.reason)
			if err == nil || ErrorCode(err) != EUNPROCESSABLE || !strings.Contains(err.Error(), c.words) || strings.Contains(err.Error(), c.value) {
				t.Errorf("%q: %v; want EUNPROCESSABLE naming %s", c.reason, err, c.words)
			}
		}
		if got, err := check("  The person withdrew the request on 3 March 2026, ticket 4512  "); err != nil || got != "The person withdrew the request on 3 March 2026, ticket 4512" {
			t.Errorf("ordinary reason: %q, %v", got, err)
		}
	}
}
