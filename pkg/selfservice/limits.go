package selfservice

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Limits bounds what one client IP may do per Window, and how many wrong
// codes one address may receive per FailureWindow. Zero fields take the
// defaults noted.
//
// The IP limits come first, so that a client past them never reaches an
// address's counter. The address limit counts only wrong codes, never
// asks: asking for someone's address spends nothing of theirs, and
// locking them out needs FailuresPerEmail wrong codes from more than one
// client (FailuresPerIP is lower), and lasts one FailureWindow.
type Limits struct {
	Window        time.Duration // default 1h
	AsksPerIP     int           // default 20
	VerifiesPerIP int           // default 30: codes tried, right or wrong
	FailuresPerIP int           // default 5: wrong codes
	// FailuresPerEmail wrong codes for one address, from any client, stop
	// its codes from being checked until FailureWindow has passed since
	// the first: the bound on guessing a code from many clients.
	FailuresPerEmail int           // default 10
	FailureWindow    time.Duration // default 15m
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

func (l Limits) window() time.Duration        { return cmp.Or(l.Window, time.Hour) }
func (l Limits) asksPerIP() int               { return cmp.Or(l.AsksPerIP, 20) }
func (l Limits) verifiesPerIP() int           { return cmp.Or(l.VerifiesPerIP, 30) }
func (l Limits) failuresPerIP() int           { return cmp.Or(l.FailuresPerIP, 5) }
func (l Limits) failuresPerEmail() int        { return cmp.Or(l.FailuresPerEmail, 10) }
func (l Limits) failureWindow() time.Duration { return cmp.Or(l.FailureWindow, 15*time.Minute) }

// bucket is the keyed hash a limit of kind on value counts under: neither
// IP addresses nor emails are stored. Kinds ending in "-ip" count IPv6
// clients by their /64 (ipBucket).
func (s *Service) bucket(kind, value string) string {
	if strings.HasSuffix(kind, "-ip") {
		value = ipBucket(value)
	}
	return s.Subject.Sign("self-limit", []byte(kind+"\x00"+value))
}

// limit counts a hit on (kind, value) in windows of w and returns a
// *dsr.RateLimitError once the window's hits pass max. An empty value is
// not limited.
func (s *Service) limit(ctx context.Context, kind, value string, max int, w time.Duration) error {
	if value == "" {
		return nil
	}
	hits, start, err := s.Store.Hit(ctx, s.bucket(kind, value), w)
	if err != nil {
		return err
	}
	if hits <= max {
		return nil
	}
	return s.limited(start, w)
}

// reserve counts one wrong code on (kind, value) in windows of w before
// the code is checked, and returns a *dsr.RateLimitError (with nothing
// counted) once max are counted. Counting first is what bounds concurrent
// guesses: a check made before any of them was counted would let them all
// through. The caller gives the reservation back (release) when the code
// turns out not to be wrong.
func (s *Service) reserve(ctx context.Context, kind, value string, max int, w time.Duration) error {
	err := s.limit(ctx, kind, value, max, w)
	var over *dsr.RateLimitError
	if errors.As(err, &over) {
		s.release(ctx, kind, value, w)
	}
	return err
}

// release gives back a reservation on (kind, value). A failure is logged:
// it leaves one wrong code too many counted until the window ends.
func (s *Service) release(ctx context.Context, kind, value string, w time.Duration) {
	if value == "" {
		return
	}
	if err := s.Store.Release(ctx, s.bucket(kind, value), w); err != nil && s.Logger != nil {
		s.Logger.Warn("self-service: rate limit not given back", "kind", kind, "error", err)
	}
}

// limited is the error for a window of w that started at start.
func (s *Service) limited(start time.Time, w time.Duration) error {
	wait := start.Add(w).Sub(s.now()).Round(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	return &dsr.RateLimitError{RetryAfter: wait,
		Coded: dsr.Errorf(dsr.ERATELIMITED, "too many attempts; try again in %s", wait)}
}

// Limit counts a hit on (kind, value) in windows of w, as the self-service
// limits do (keyed buckets in the state store, IPv6 clients by /64 for
// kinds ending in "-ip"), and returns a *dsr.RateLimitError past max: the
// owners' console signs in under it.
func (s *Service) Limit(ctx context.Context, kind, value string, max int, w time.Duration) error {
	return s.limit(ctx, kind, value, max, w)
}
