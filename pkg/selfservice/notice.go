package selfservice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// tokenBytes is the randomness of a download link: 256 bits.
const tokenBytes = 32

// RequestEnded implements dsr.EndObserver: for a self-service request it sends
// the closing notice to the outbox address — the download link of a
// completed access request, the confirmation of a completed erasure, or
// why the request did not complete — and then deletes the address. Other
// requests are left alone. Errors: building the link or sending the mail;
// the address then stays in the outbox and Sweep tries again.
func (s *Service) RequestEnded(ctx context.Context, r *dsr.Request) error {
	email, err := s.Store.Notice(ctx, r.ID)
	if err != nil || email == "" {
		return err
	}
	return s.notify(ctx, dsr.SelfNotice{Request: r, Email: email})
}

func (s *Service) notify(ctx context.Context, n dsr.SelfNotice) error {
	r := n.Request
	lang, err := s.Store.Language(ctx, r.ID)
	if err != nil {
		return err
	}
	studio, p := s.audience(ctx, r.Tenant, lang)
	l := newLetter(p, studio)
	switch {
	case r.Status == dsr.StatusCompleted && r.Type == dsr.TypeAccess:
		link, expires, err := s.newLink(ctx, r.ID)
		if err != nil {
			return err
		}
		readyLetter(l, link, expires)
	case r.Status == dsr.StatusCompleted && r.Type == dsr.TypeErasure:
		erasedLetter(l, r)
	default:
		endedLetter(l, r)
	}
	m, err := l.message(n.Email)
	if err != nil {
		return err
	}
	if err := s.Mail.Send(ctx, m); err != nil {
		return fmt.Errorf("self-service: closing notice of request %s: %w", r.ID, err)
	}
	if err := s.Store.Forget(ctx, r.ID); err != nil {
		return err
	}
	s.Logger.Info("self-service closing notice sent; address forgotten", "request", r.ID, "status", r.Status)
	return nil
}

// newLink issues a download link for request id's package, valid until
// the package expires, and stores its token's keyed hash.
func (s *Service) newLink(ctx context.Context, id string) (string, time.Time, error) {
	if s.Exports == nil {
		return "", time.Time{}, fmt.Errorf("self-service: request %s completed without an export store", id)
	}
	rec, err := s.Exports.GetExport(ctx, id)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("self-service: link of request %s: %w", id, err)
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("self-service: link token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if err := s.Store.SaveLink(ctx, id, s.Subject.Sign("self-link", []byte(token)), rec.ExpiresAt); err != nil {
		return "", time.Time{}, err
	}
	return strings.TrimRight(s.PublicURL, "/") + "/v1/self/exports/" + token, rec.ExpiresAt, nil
}
