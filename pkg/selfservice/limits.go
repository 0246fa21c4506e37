package selfservice

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Limits bounds how often one client IP or one address may ask for a
// code or try one, per Window. Zero fields take the defaults noted.
type Limits struct {
	Window           time.Duration // default 1h
	AsksPerIP        int           // default 20
	AsksPerEmail     int           // default 5
	VerifiesPerIP    int           // default 30
	VerifiesPerEmail int           // default 10
	// TrustedProxies are the reverse proxies (LETHE_TRUSTED_PROXIES) whose
	// X-Forwarded-For names the client an IP limit counts; none: the
	// connection's address is the client, and X-Forwarded-For is ignored.
	TrustedProxies []*net.IPNet
}

// TrustedProxies returns Limits.TrustedProxies, for the HTTP front that
// finds the client IP.
func (s *Service) TrustedProxies() []*net.IPNet { return s.Limits.TrustedProxies }

// PublicOrigin returns the scheme and host of PublicURL, such as
// https://privacy.example.com ("" without a usable PublicURL): the origin
// of the page's forms when a proxy rewrites the Host header.
func (s *Service) PublicOrigin() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// ipBucket is the part of a client address that an IP limit counts: an
// IPv4 address whole, an IPv6 address by its /64, which one client
// usually holds whole and could otherwise rotate through.
func ipBucket(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

func (l Limits) window() time.Duration { return cmp.Or(l.Window, time.Hour) }
func (l Limits) asksPerIP() int        { return cmp.Or(l.AsksPerIP, 20) }
func (l Limits) asksPerEmail() int     { return cmp.Or(l.AsksPerEmail, 5) }
func (l Limits) verifiesPerIP() int    { return cmp.Or(l.VerifiesPerIP, 30) }
func (l Limits) verifiesPerEmail() int { return cmp.Or(l.VerifiesPerEmail, 10) }

// limit counts a hit on (kind, value) and returns a *dsr.RateLimitError
// once the window's hits pass max. The bucket is a keyed hash: neither IP
// addresses nor emails are stored. An empty value is not limited. Kinds
// ending in "-ip" count IPv6 clients by their /64 (ipBucket).
func (s *Service) limit(ctx context.Context, kind, value string, max int) error {
	if value == "" {
		return nil
	}
	if strings.HasSuffix(kind, "-ip") {
		value = ipBucket(value)
	}
	w := s.Limits.window()
	hits, start, err := s.Store.Hit(ctx, s.Subject.Sign("self-limit", []byte(kind+"\x00"+value)), w)
	if err != nil {
		return err
	}
	if hits <= max {
		return nil
	}
	wait := start.Add(w).Sub(s.now()).Round(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	return &dsr.RateLimitError{RetryAfter: wait,
		Coded: dsr.Errorf(dsr.ERATELIMITED, "too many attempts; try again in %s", wait)}
}
