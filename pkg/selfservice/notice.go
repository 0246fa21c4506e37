package selfservice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/mail"
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
	m := mail.Message{To: n.Email}
	switch {
	case r.Status == dsr.StatusCompleted && r.Type == dsr.TypeAccess:
		link, expires, err := s.newLink(ctx, r.ID)
		if err != nil {
			return err
		}
		m.Subject, m.Secret = "Your data is ready to download", link
		m.Body = fmt.Sprintf("You asked for a copy of your data%s. Download it here:\n\n%s\n\n"+
			"The link works until %s; after that the package is deleted and you can ask again.\n"+
			"If you did not ask for this, you can ignore this email.\n",
			forTenant(r.Tenant), link, expires.UTC().Format("2 January 2006 15:04 MST"))
	case r.Status == dsr.StatusCompleted && r.Type == dsr.TypeErasure:
		var total int64
		for _, n := range r.Counts {
			total += n
		}
		m.Subject = "Your data has been erased"
		m.Body = fmt.Sprintf("You asked us to erase your data%s. It is done: %d record(s) were erased or anonymised,\n"+
			"and a second search found nothing left (request %s).\n"+
			"This is the last email we send to this address: we have now forgotten it.\n",
			forTenant(r.Tenant), total, r.ID)
	default:
		reason := "it was cancelled"
		if r.Err != nil && r.Status != dsr.StatusCancelled {
			reason = r.Err.Message
		}
		m.Subject = "Your privacy request could not be completed"
		m.Body = fmt.Sprintf("Your %s request%s (request %s) ended as %s: %s.\n"+
			"You can ask again, or write to the service that holds your data.\n",
			r.Type, forTenant(r.Tenant), r.ID, r.Status, strings.TrimSuffix(reason, "."))
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

func forTenant(t string) string {
	if t == "" {
		return ""
	}
	return " held by " + t
}

// codeMessage is the email that carries a verification code.
func codeMessage(to string, typ dsr.Type, tenant, code string) mail.Message {
	what := "a copy of your data"
	if typ == dsr.TypeErasure {
		what = "the erasure of your data"
	}
	return mail.Message{To: to, Subject: "Your privacy request code", Secret: code,
		Body: fmt.Sprintf("Someone, hopefully you, asked for %s%s.\n\nYour code: %s\n\n"+
			"Enter it on the page where you asked. It works for %d minutes and %d attempts.\n"+
			"If you did not ask, ignore this email: nothing happens without the code.\n",
			what, forTenant(tenant), code, int(dsr.CodeTTL/time.Minute), dsr.MaxCodeAttempts)}
}
