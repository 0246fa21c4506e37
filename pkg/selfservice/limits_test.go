package selfservice

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// hitStore counts Hit per bucket; the rest of Store is not used.
type hitStore struct {
	Store
	hits map[string]int
}

func (h *hitStore) Hit(_ context.Context, bucket string, _ time.Duration) (int, time.Time, error) {
	h.hits[bucket]++
	return h.hits[bucket], time.Now(), nil
}

// TestIPLimitsCountIPv6By64: addresses within one IPv6 /64 share a
// bucket, other /64s and IPv4 addresses do not, and emails are untouched.
func TestIPLimitsCountIPv6By64(t *testing.T) {
	s := &Service{Store: &hitStore{hits: map[string]int{}}, Subject: dsr.NewSubjectHasher([]byte("0123456789abcdef0123456789abcdef"))}
	ctx := context.Background()
	limited := func(kind, v string) bool {
		err := s.limit(ctx, kind, v, 1, time.Hour)
		var rl *dsr.RateLimitError
		if err != nil && !errors.As(err, &rl) {
			t.Fatal(err)
		}
		return err != nil
	}
	for _, c := range []struct {
		kind, value string
		want        bool
	}{
		{"ask-ip", "2001:db8:1:2::1", false},
		{"ask-ip", "2001:db8:1:2:abcd:ef01:2345:6789", true}, // same /64
		{"ask-ip", "2001:DB8:1:2::99%eth0", true},            // same /64, other spelling
		{"ask-ip", "2001:db8:1:3::1", false},                 // next /64
		{"verify-ip", "2001:db8:1:2::7", false},              // another kind
		{"ask-ip", "192.0.2.1", false},
		{"ask-ip", "192.0.2.2", false}, // IPv4: one address each
		{"ask-ip", "::ffff:192.0.2.1", true},
		{"ask-email", "2001:db8:1:2::1", false},
		{"ask-email", "2001:db8:1:2::2", false}, // not an IP kind: not grouped
	} {
		if got := limited(c.kind, c.value); got != c.want {
			t.Errorf("%s %s: limited %v, want %v", c.kind, c.value, got, c.want)
		}
	}
	if got := ipBucket("2001:db8:1:2:3:4:5:6"); got != "2001:db8:1:2::/64" {
		t.Errorf("ipBucket: %q", got)
	}
}

func (h *hitStore) Release(_ context.Context, bucket string, _ time.Duration) error {
	if h.hits[bucket] > 0 {
		h.hits[bucket]--
	}
	return nil
}

// wrongCodeStore is a hitStore whose one request, of subject "subject-ada",
// refuses every code as wrong, as pkg/state's SelfStore does.
type wrongCodeStore struct{ hitStore }

func (w *wrongCodeStore) Load(_ context.Context, id string) (*dsr.Request, error) {
	return &dsr.Request{ID: id, Subject: "subject-ada", Status: dsr.StatusVerifying}, nil
}

func (w *wrongCodeStore) Verify(context.Context, string, func(string) bool) (*dsr.Request, error) {
	return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "code: wrong; 2 attempt(s) left")
}

// TestVerifyLimitsClientFirst: wrong codes count against the client IP
// and the address; once the IP is spent its attempts are refused before
// they reach the address's counter, and malformed codes count against
// the address not at all.
func TestVerifyLimitsClientFirst(t *testing.T) {
	st := &wrongCodeStore{hitStore{hits: map[string]int{}}}
	s := &Service{Store: st, Subject: dsr.NewSubjectHasher([]byte("0123456789abcdef0123456789abcdef")),
		Limits: Limits{FailuresPerIP: 2, FailuresPerEmail: 10}, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	email := s.bucket("fail-email", "subject-ada")
	for i, want := range []string{dsr.EUNPROCESSABLE, dsr.EUNPROCESSABLE, dsr.ERATELIMITED, dsr.ERATELIMITED} {
		if _, err := s.Verify(ctx, "req-1", "123456", "203.0.113.66"); dsr.ErrorCode(err) != want {
			t.Fatalf("attempt %d: %v, want %s", i+1, err, want)
		}
	}
	if n := st.hits[email]; n != 2 {
		t.Errorf("the address counted %d wrong codes, want 2 (the refused attempts reach it not)", n)
	}
	if _, err := s.Verify(ctx, "req-1", "12ab", "198.51.100.7"); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
		t.Fatalf("malformed code: %v", err)
	}
	if n := st.hits[email]; n != 2 {
		t.Errorf("a malformed code counted against the address (%d)", n)
	}
}

// TestReservePastMaxCountsNothing: a reservation refused past max is
// given back, so refused attempts never grow the count.
func TestReservePastMaxCountsNothing(t *testing.T) {
	st := &hitStore{hits: map[string]int{}}
	s := &Service{Store: st, Subject: dsr.NewSubjectHasher([]byte("0123456789abcdef0123456789abcdef"))}
	ctx := context.Background()
	for i, want := range []string{"", "", dsr.ERATELIMITED, dsr.ERATELIMITED} {
		if err := s.reserve(ctx, "fail-email", "subject-ada", 2, time.Hour); dsr.ErrorCode(err) != want {
			t.Fatalf("reservation %d: %v, want %q", i+1, err, want)
		}
	}
	if n := st.hits[s.bucket("fail-email", "subject-ada")]; n != 2 {
		t.Errorf("%d reservations counted, want 2 (the refused ones given back)", n)
	}
}
