package selfservice

import (
	"cmp"
	"context"
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
}

func (l Limits) window() time.Duration { return cmp.Or(l.Window, time.Hour) }
func (l Limits) asksPerIP() int        { return cmp.Or(l.AsksPerIP, 20) }
func (l Limits) asksPerEmail() int     { return cmp.Or(l.AsksPerEmail, 5) }
func (l Limits) verifiesPerIP() int    { return cmp.Or(l.VerifiesPerIP, 30) }
func (l Limits) verifiesPerEmail() int { return cmp.Or(l.VerifiesPerEmail, 10) }

// limit counts a hit on (kind, value) and returns a *dsr.RateLimitError
// once the window's hits pass max. The bucket is a keyed hash: neither IP
// addresses nor emails are stored. An empty value is not limited.
func (s *Service) limit(ctx context.Context, kind, value string, max int) error {
	if value == "" {
		return nil
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
