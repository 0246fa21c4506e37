package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultFrom is the sender when LETHE_SMTP_URL names none (?from=…).
const DefaultFrom = "privacy@localhost"

// SMTP sends through one SMTP server with github.com/wneessen/go-mail.
// TLS is required: smtp:// upgrades with STARTTLS and refuses to send when
// the server does not offer it (as when an attacker strips the offer),
// smtps:// speaks TLS from the first byte. Only a URL that says ?tls=none
// sends in clear.
type SMTP struct {
	host        string
	port        int
	implicitTLS bool // smtps://
	plaintext   bool // ?tls=none
	user        string
	pass        string
	from        string
	Timeout     time.Duration // per message; 0 means 30 s
	TLSConfig   *tls.Config   // nil verifies the server's certificate for its host name
	Now         func() time.Time
}

// ParseURL reads LETHE_SMTP_URL: smtp://[user:pass@]host[:port][?from=addr]
// (port 25 by default, STARTTLS required) or smtps://… (port 465,
// implicit TLS); ?tls=none on smtp:// sends in clear, which the caller
// must allow explicitly (see Plaintext), and is refused with a user, whose
// password would travel in clear. Errors name what is wrong and never
// repeat the password.
func ParseURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("LETHE_SMTP_URL: not a URL such as smtp://user:pass@mail.example.com:587")
	}
	q := u.Query()
	s := &SMTP{from: cmp.Or(q.Get("from"), DefaultFrom)}
	port := 25
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.implicitTLS, port = true, 465
	default:
		return nil, fmt.Errorf("LETHE_SMTP_URL: scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("LETHE_SMTP_URL: a host is required, as in smtp://mail.example.com:587")
	}
	s.host, s.port = u.Hostname(), port
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("LETHE_SMTP_URL: port %q is not a number from 1 to 65535", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if !strings.Contains(s.from, "@") || strings.ContainsAny(s.from, "\r\n<>") {
		return nil, fmt.Errorf("LETHE_SMTP_URL: from must be a plain address such as privacy@example.com")
	}
	switch mode := q.Get("tls"); mode {
	case "":
	case "none":
		if s.implicitTLS {
			return nil, fmt.Errorf("LETHE_SMTP_URL: smtps:// is TLS from the first byte: drop ?tls=none, or use smtp://")
		}
		if s.user != "" {
			return nil, fmt.Errorf("LETHE_SMTP_URL: ?tls=none would send the password in clear: drop the user or ?tls=none")
		}
		s.plaintext = true
	default:
		return nil, fmt.Errorf("LETHE_SMTP_URL: tls=%q: the only value is none (send in clear); leave it out to require TLS", mode)
	}
	return s, nil
}

// Plaintext reports whether the URL said ?tls=none: mail then goes in
// clear, which lethe serve allows only in --demo or with
// LETHE_SMTP_INSECURE=1.
func (s *SMTP) Plaintext() bool { return s.plaintext }

// Send implements Mailer: it connects, says EHLO, upgrades with STARTTLS
// (refusing to go on when the server does not offer it, unless the URL
// said ?tls=none), authenticates when the URL has a user, and sends m.
// Errors name the server and the step that failed, with the address masked.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.Timeout, 30*time.Second))
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
		if !s.implicitTLS && !s.plaintext && strings.Contains(err.Error(), "does not support STARTTLS") {
			return fmt.Errorf("mail: %s offers no STARTTLS, so nothing was sent in clear (use smtps:// for implicit TLS, or ?tls=none for a relay you trust): %w", addr, err)
		}
		// A server's reply may echo the address ("550 <ada@…> unknown"),
		// and go-mail names the recipient: mask it, as errors end up in logs.
		return fmt.Errorf("mail: %s: %w", addr, scrub(err, m.To))
	}
	return nil
}

// client returns a go-mail client for one delivery.
func (s *SMTP) client() (*gomail.Client, error) {
	// One message per connection: no NOOP before it, no RSET after it.
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(cmp.Or(s.Timeout, 30*time.Second)),
		gomail.WithTLSConfig(s.tlsConfig()), gomail.WithoutNoop(), gomail.WithoutRset()}
	switch {
	case s.implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.plaintext:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.user != "" {
		// Picks the best mechanism the server offers over TLS; go-mail
		// never sends a password in clear.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: %s: %w", s.host, err)
	}
	return c, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLSConfig != nil {
		return s.TLSConfig
	}
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// scrubbed is an error whose text has the address masked; it still
// unwraps to the original for errors.Is and errors.As.
type scrubbed struct {
	text  string
	cause error
}

func (e *scrubbed) Error() string { return e.text }
func (e *scrubbed) Unwrap() error { return e.cause }

func scrub(err error, addr string) error {
	if addr == "" || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(addr)) {
		return err
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(addr))
	return &scrubbed{text: re.ReplaceAllString(err.Error(), MaskEmail(addr)), cause: err}
}
