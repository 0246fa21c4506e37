package api_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// askFrom files a self-service request for a fresh address with the given
// X-Forwarded-For ("" sends none) and returns the status.
func (b *selfBundle) askFrom(t *testing.T, n int, xff string) int {
	t.Helper()
	body := fmt.Sprintf(`{"type":"access","email":"user%d@example.com","tenant":"career-coach"}`, n)
	var hdr []string
	if xff != "" {
		hdr = []string{"X-Forwarded-For", xff}
	}
	return b.do(t, "POST", "/v1/self/requests", "", body, hdr...).status
}

func cidrs(t *testing.T, ss ...string) []*net.IPNet {
	t.Helper()
	var out []*net.IPNet
	for _, s := range ss {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestSelfLimitsBehindTrustedProxy: with the test's loopback connection a
// trusted proxy, each X-Forwarded-For client has its own per-IP limit;
// IPv6 clients are counted by their /64.
func TestSelfLimitsBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{AsksPerIP: 1, TrustedProxies: cidrs(t, "127.0.0.0/8", "::1/128")})
	steps := []struct {
		xff  string
		want int
	}{
		{"203.0.113.1", http.StatusAccepted},
		{"203.0.113.1", http.StatusTooManyRequests},
		{"203.0.113.2", http.StatusAccepted},                     // another end user behind the same proxy
		{"198.51.100.9, 203.0.113.3", http.StatusAccepted},       // rightmost untrusted entry counts
		{"203.0.113.1, 203.0.113.3", http.StatusTooManyRequests}, // so a forged left entry does not help
		{"2001:db8:1:2::1", http.StatusAccepted},
		{"2001:db8:1:2:ffff::42", http.StatusTooManyRequests}, // same /64
		{"2001:db8:1:3::1", http.StatusAccepted},              // another /64
	}
	for i, s := range steps {
		if got := b.askFrom(t, i, s.xff); got != s.want {
			t.Errorf("ask %d with X-Forwarded-For %q: %d, want %d", i, s.xff, got, s.want)
		}
	}
}

// TestSelfLimitsIgnoreXFFWithoutTrustedProxies: without trusted proxies
// X-Forwarded-For is ignored, so naming another address escapes nothing.
func TestSelfLimitsIgnoreXFFWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{AsksPerIP: 1})
	if got := b.askFrom(t, 0, "203.0.113.1"); got != http.StatusAccepted {
		t.Fatalf("first ask: %d", got)
	}
	if got := b.askFrom(t, 1, "203.0.113.2"); got != http.StatusTooManyRequests {
		t.Errorf("second ask naming another X-Forwarded-For: %d, want 429", got)
	}
}

// TestPrivacyPageOriginBehindProxy: with a public URL, a form whose Origin
// is the public URL's scheme and host is accepted although the Host header
// (rewritten by a proxy) differs; other origins are refused. Without one,
// the Origin must be the request's Host.
func TestPrivacyPageOriginBehindProxy(t *testing.T) {
	t.Parallel()
	post := func(t *testing.T, b *selfBundle, n int, origin string) int {
		t.Helper()
		p := newPageClient(t, b.url)
		_, page := p.get("/privacy/career-coach")
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no csrf field")
		}
		form := url.Values{"email": {fmt.Sprintf("user%d@example.com", n)}, "type": {"access"},
			"tenant": {"career-coach"}, "csrf": {m[1]}}
		res, _ := p.post("/privacy/request", form, "Origin", origin)
		return res.StatusCode
	}
	t.Run("public URL", func(t *testing.T) {
		t.Parallel()
		b := setupSelf(t, "sqlite", selfservice.Limits{}) // PublicURL http://lethe.test
		for i, c := range []struct {
			origin string
			want   int
		}{
			{"http://lethe.test", http.StatusOK},
			{"http://LETHE.test", http.StatusOK},
			{"https://lethe.test", http.StatusForbidden},
			{"http://lethe.test.evil.example", http.StatusForbidden},
			{"https://evil.example", http.StatusForbidden},
			{"null", http.StatusForbidden},
		} {
			if got := post(t, b, i, c.origin); got != c.want {
				t.Errorf("Origin %s: %d, want %d", c.origin, got, c.want)
			}
		}
	})
	t.Run("no public URL", func(t *testing.T) {
		t.Parallel()
		b := setupSelf(t, "sqlite", selfservice.Limits{})
		b.svc.PublicURL = ""
		for i, c := range []struct {
			origin string
			want   int
		}{
			{b.url, http.StatusOK}, // the Host itself
			{"http://lethe.test", http.StatusForbidden},
			{"https://evil.example", http.StatusForbidden},
		} {
			if got := post(t, b, i, c.origin); got != c.want {
				t.Errorf("Origin %s: %d, want %d", c.origin, got, c.want)
			}
		}
	})
}
