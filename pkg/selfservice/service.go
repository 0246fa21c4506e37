package selfservice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/mail"
)

// Store is what the service keeps in Lethe's state store (pkg/state's
// SelfStore implements it).
type Store interface {
	Create(ctx context.Context, req *dsr.Request, codeHash string, expires time.Time, lang string) (*dsr.Request, error)
	Verify(ctx context.Context, id string, matches func(codeHash string) bool) (*dsr.Request, error)
	Load(ctx context.Context, id string) (*dsr.Request, error)
	Notice(ctx context.Context, id string) (string, error)
	Language(ctx context.Context, id string) (string, error)
	Forget(ctx context.Context, id string) error
	PendingNotices(ctx context.Context, endedBefore time.Time, limit int) ([]dsr.SelfNotice, error)
	AbandonNotices(ctx context.Context, endedBefore time.Time) (int, error)
	SaveLink(ctx context.Context, id, tokenHash string, expires time.Time) error
	Link(ctx context.Context, tokenHash string) (string, time.Time, error)
	Hit(ctx context.Context, bucket string, window time.Duration) (int, time.Time, error)
	// Release takes back one hit on bucket in its current window, if any.
	Release(ctx context.Context, bucket string, window time.Duration) error
	ExpireUnverified(ctx context.Context, before time.Time, limit int) (int, error)
	PruneLinks(ctx context.Context, before time.Time) error
	PruneLimits(ctx context.Context, before time.Time) error
}

// Packages opens access packages (pkg/export's Service implements it).
type Packages interface {
	OpenRequest(ctx context.Context, req *dsr.Request) (*dsr.Export, io.ReadCloser, error)
}

// ExportRecords tells when a package expires (dsr.ExportStore).
type ExportRecords interface {
	GetExport(ctx context.Context, requestID string) (*dsr.Export, error)
}

// Service implements dsr.SelfService and dsr.EndObserver.
type Service struct {
	Store   Store
	Mail    mail.Mailer
	Subject *dsr.SubjectHasher // keys code and token hashes and limit buckets
	// Packages and Exports serve and date access packages; nil without
	// LETHE_EXPORT_KEY (an access request then fails, and no link is sent).
	Packages Packages
	Exports  ExportRecords
	// PublicURL is where end users reach Lethe (the download link's base),
	// such as https://privacy.example.com; never taken from a request's Host.
	PublicURL string
	Limits    Limits
	// Studios gives the mails the studio's name, colour, controller and
	// default language; nil names no studio.
	Studios Studios
	Now     func() time.Time
	Logger  *slog.Logger
}

var (
	_ dsr.SelfService = (*Service)(nil)
	_ dsr.EndObserver = (*Service)(nil)
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Ask implements dsr.SelfService.
func (s *Service) Ask(ctx context.Context, in dsr.SelfAsk) (*dsr.SelfTicket, error) {
	if err := s.limit(ctx, "ask-ip", in.IP, s.Limits.asksPerIP(), s.Limits.window()); err != nil {
		return nil, err
	}
	if !in.Type.Valid() {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, `type: must be "access" or "erasure"`)
	}
	email, err := dsr.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Tenant != "" {
		if err := dsr.ValidateTenant(in.Tenant); err != nil {
			return nil, err
		}
	}
	// No limit per address here: anyone may ask for anyone's address, so
	// such a limit would let a stranger use up its owner's asks.
	subject := s.Subject.Subject(email)
	code, err := newCode()
	if err != nil {
		return nil, err
	}
	id := uuid.Must(uuid.NewV7()).String()
	expires := s.now().Add(dsr.CodeTTL)
	studio, p := s.audience(ctx, in.Tenant, in.Language)
	req, err := s.Store.Create(ctx, &dsr.Request{ID: id, Type: in.Type, Tenant: in.Tenant, Email: email, Subject: subject},
		s.codeHash(id, code), expires, p.Lang())
	if err != nil {
		return nil, err
	}
	m, err := codeLetter(p, studio, in.Type, code).message(email)
	if err == nil {
		err = s.Mail.Send(ctx, m)
	}
	if err != nil {
		s.Logger.Error("self-service: code not sent", "request", id, "subject", subject, "error", err)
		return nil, dsr.Errorf(dsr.EUNAVAILABLE, "the code could not be emailed just now; try again in a few minutes")
	}
	s.Logger.Info("self-service request filed; code sent", "request", id, "type", in.Type, "tenant", in.Tenant, "subject", subject)
	return &dsr.SelfTicket{ID: req.ID, Status: req.Status, CodeExpiresAt: expires.Truncate(time.Second)}, nil
}

// Verify implements dsr.SelfService.
func (s *Service) Verify(ctx context.Context, id, code, ip string) (*dsr.Request, error) {
	// The client's limits first: past them, nothing reaches the address's.
	l := s.Limits
	if err := s.limit(ctx, "verify-ip", ip, l.verifiesPerIP(), l.window()); err != nil {
		return nil, err
	}
	if err := s.reserve(ctx, "fail-ip", ip, l.failuresPerIP(), l.window()); err != nil {
		return nil, err
	}
	subject := ""
	release := func() {
		s.release(ctx, "fail-ip", ip, l.window())
		s.release(ctx, "fail-email", subject, l.failureWindow())
	}
	req, err := s.Store.Load(ctx, id)
	if err != nil {
		release()
		return nil, err
	}
	if err := s.reserve(ctx, "fail-email", string(req.Subject), l.failuresPerEmail(), l.failureWindow()); err != nil {
		release()
		return nil, err
	}
	subject = string(req.Subject)
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		release()
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "code: the six digits from the email")
	}
	// A code sent before a rotation of the subject key was stored under
	// the previous key: it still opens its request.
	out, err := s.Store.Verify(ctx, id, func(h string) bool { return s.Subject.Signed("self-code", []byte(id+"\x00"+code), h) })
	// Only a code checked and found wrong stays counted against the client
	// and the address (422 with attempts left, 403 for the last).
	if c := dsr.ErrorCode(err); err == nil || (c != dsr.EUNPROCESSABLE && c != dsr.EFORBIDDEN) {
		release()
	}
	if err != nil {
		s.Logger.Info("self-service verification refused", "request", id, "code", dsr.ErrorCode(err))
		return nil, err
	}
	s.Logger.Info("self-service request verified; queued", "request", id, "subject", out.Subject)
	return out, nil
}

// Download implements dsr.SelfService.
func (s *Service) Download(ctx context.Context, token string) (*dsr.Export, io.ReadCloser, error) {
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) != tokenBytes {
		return nil, nil, dsr.Errorf(dsr.ENOTFOUND, "this download link does not exist: use the link from the latest email")
	}
	var id string
	var expires time.Time
	var err error
	// A link emailed before a rotation of the subject key is stored under
	// the previous key: try each, current first.
	for _, h := range s.Subject.Signs("self-link", []byte(token)) {
		if id, expires, err = s.Store.Link(ctx, h); dsr.ErrorCode(err) != dsr.ENOTFOUND {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(expires) {
		return nil, nil, dsr.Errorf(dsr.EGONE, "this download link expired on %s: ask for your data again", expires.Format(time.RFC3339))
	}
	if s.Packages == nil {
		return nil, nil, dsr.Errorf(dsr.EGONE, "access packages are not configured on this service")
	}
	req, err := s.Store.Load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rec, body, err := s.Packages.OpenRequest(ctx, req)
	if dsr.ErrorCode(err) == dsr.EGONE {
		return nil, nil, dsr.Errorf(dsr.EGONE, "this package was deleted when your data was erased: nothing of it is kept")
	}
	if dsr.ErrorCode(err) == dsr.ECONFLICT {
		return nil, nil, dsr.Errorf(dsr.EGONE, "this package is no longer available: ask for your data again")
	}
	return rec, body, err
}

// codeHash is the keyed hash of a code, bound to its request.
func (s *Service) codeHash(id, code string) string {
	return s.Subject.Sign("self-code", []byte(id+"\x00"+code))
}

// newCode returns six decimal digits from crypto/rand.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("self-service: code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
