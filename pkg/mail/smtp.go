package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultFrom is the sender when LETHE_SMTP_URL names none (?from=…).
const DefaultFrom = "privacy@localhost"

// SMTP sends through one SMTP server.
type SMTP struct {
	host      string // host:port
	tls       bool   // smtps://: TLS from the first byte
	user      string
	pass      string
	from      string
	Timeout   time.Duration // per message; 0 means 30 s
	TLSConfig *tls.Config   // nil verifies the server's certificate for its host name
	Now       func() time.Time
}

// ParseURL reads LETHE_SMTP_URL: smtp://[user:pass@]host[:port][?from=addr]
// (port 25 by default, STARTTLS when offered) or smtps://… (port 465,
// implicit TLS). Errors name what is wrong and never repeat the password.
func ParseURL(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("LETHE_SMTP_URL: not a URL such as smtp://user:pass@mail.example.com:587")
	}
	s := &SMTP{from: cmp.Or(u.Query().Get("from"), DefaultFrom)}
	port := "25"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.tls, port = true, "465"
	default:
		return nil, fmt.Errorf("LETHE_SMTP_URL: scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("LETHE_SMTP_URL: a host is required, as in smtp://mail.example.com:587")
	}
	s.host = net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), port))
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if !strings.Contains(s.from, "@") || strings.ContainsAny(s.from, "\r\n<>") {
		return nil, fmt.Errorf("LETHE_SMTP_URL: from must be a plain address such as privacy@example.com")
	}
	return s, nil
}

// Send implements Mailer: it dials, says EHLO, upgrades with STARTTLS when
// the server offers it, authenticates when the URL has a user, and sends
// m. Errors name the SMTP step that failed.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, err := render(s.from, m, now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.Timeout, 30*time.Second))
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s: %w", s.host, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.host)
	// A server's reply may echo the address ("550 <ada@…> unknown"): mask
	// it, as errors end up in logs.
	fail := func(step string, err error) error { return fmt.Errorf("mail: %s: %w", step, scrub(err, m.To)) }
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fail("greeting from "+s.host, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fail("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.tls {
		if err := c.StartTLS(s.tlsConfig(host)); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if s.user != "" {
		// PlainAuth refuses to send the password in clear except to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, host)); err != nil {
			return fail("AUTH", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fail("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	if err := c.Quit(); err != nil {
		return fail("QUIT", err)
	}
	return nil
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	if s.tls {
		host, _, _ := net.SplitHostPort(s.host)
		d := &tls.Dialer{Config: s.tlsConfig(host)}
		return d.DialContext(ctx, "tcp", s.host)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.host)
}

func (s *SMTP) tlsConfig(host string) *tls.Config {
	if s.TLSConfig != nil {
		return s.TLSConfig
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
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
