// Package mailtest runs a real SMTP server in-process for tests
// (github.com/emersion/go-smtp) and keeps every message it receives, so a
// test reads the code or link Lethe emailed as a person would. A server
// speaks in clear (Start), offers STARTTLS or speaks TLS from the first
// byte (StartMode), with a certificate of its own that ClientTLS trusts.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message received.
type Message struct {
	From    string
	To      []string
	Subject string
	Body    string // the text/plain part, decoded from quoted-printable
	HTML    string // the text/html part of a multipart/alternative message, "" for none
	Raw     []byte
	User    string // who authenticated, "" for none
	TLS     bool   // whether the message came over TLS
}

// Mode is how a server speaks.
type Mode int

// The modes of a server.
const (
	// Plain speaks in clear and offers no STARTTLS: what a client sees when
	// an attacker strips the offer.
	Plain Mode = iota
	// STARTTLS offers STARTTLS and takes AUTH only after it.
	STARTTLS
	// ImplicitTLS speaks TLS from the first byte, as on port 465.
	ImplicitTLS
)

// Server is a running SMTP server on 127.0.0.1.
type Server struct {
	Addr string // host:port
	Mode Mode
	// User and Pass, when User is set, are the only credentials accepted
	// (AUTH PLAIN; in Plain mode also in clear, as on localhost).
	User, Pass string
	reject     string // see SetReject
	roots      *x509.CertPool

	mu           sync.Mutex
	msgs         []Message
	authAttempts int
}

// Start starts a Plain server stopped when t ends.
func Start(t testing.TB) *Server { return StartMode(t, Plain) }

// StartMode starts a server of mode, stopped when t ends. Every server has
// a certificate, so that a client configured with ClientTLS fails only for
// what the mode lacks.
func StartMode(t testing.TB, mode Mode) *Server {
	t.Helper()
	cert, roots := newCertificate(t)
	s := &Server{Mode: mode, roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: s, conn: c}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = mode == Plain
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch mode {
	case STARTTLS:
		srv.TLSConfig = cfg
	case ImplicitTLS:
		ln = tls.NewListener(ln, cfg)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the LETHE_SMTP_URL that reaches this server: smtp:// with
// ?tls=none for Plain, smtp:// for STARTTLS, smtps:// for ImplicitTLS.
func (s *Server) URL() string {
	scheme, query := "smtp://", "?from=privacy@lethe.test"
	switch s.Mode {
	case Plain:
		query += "&tls=none"
	case ImplicitTLS:
		scheme = "smtps://"
	}
	user := ""
	if s.User != "" {
		user = s.User + ":" + s.Pass + "@"
	}
	return scheme + user + s.Addr + query
}

// ClientTLS is a client configuration that trusts this server's
// certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// AuthAttempts is how many times a client began AUTH, successful or not.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authAttempts
}

// SetReject makes the server refuse rcpt, one address or several separated
// by commas ("" refuses none), with a 550
// reply that echoes the address, as many servers do.
func (s *Server) SetReject(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = rcpt
}

// Messages returns every message received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the first message to rcpt whose subject contains subject,
// waiting up to timeout; it fails t when none arrives.
func (s *Server) Wait(t testing.TB, rcpt, subject string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range s.Messages() {
			if slicesContains(m.To, rcpt) && strings.Contains(m.Subject, subject) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: no message to %s about %q within %s; got %d other(s)", rcpt, subject, timeout, len(s.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// Code returns the six-digit code in m's body, or "".
func (m Message) Code() string { return codeRE.FindString(m.Body) }

var linkRE = regexp.MustCompile(`https?://\S+/v1/self/exports/[A-Za-z0-9_-]+`)

// Link returns the download link in m's body, or "".
func (m Message) Link() string { return linkRE.FindString(m.Body) }

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	s.srv.mu.Lock()
	s.srv.authAttempts++
	s.srv.mu.Unlock()
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.User || pass != s.srv.Pass {
			return errors.New("mailtest: bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	reject := s.srv.reject
	s.srv.mu.Unlock()
	if rejected(reject, to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: recipient unknown"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, overTLS := s.conn.TLSConnectionState()
	m := Message{From: s.from, To: s.to, Raw: raw, User: s.user, TLS: overTLS}
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		m.Subject, _ = dec.DecodeHeader(parsed.Header.Get("Subject"))
		m.Body, m.HTML = readBody(textproto.MIMEHeader(parsed.Header), parsed.Body)
	}
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, m)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// rejected reports whether to is one of the comma-separated addresses of
// reject (see SetReject).
func rejected(reject, to string) bool {
	for _, r := range strings.Split(reject, ",") {
		if r != "" && strings.EqualFold(strings.TrimSpace(r), to) {
			return true
		}
	}
	return false
}

// readBody returns the text and HTML of a message body with header h: a
// single text part, or the parts of a multipart/alternative.
func readBody(h textproto.MIMEHeader, body io.Reader) (text, html string) {
	mediaType, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return text, html
			}
			t, h := readBody(part.Header, part)
			text, html = text+t, html+h
		}
	}
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(body)
	decoded := strings.ReplaceAll(string(b), "\r\n", "\n")
	if mediaType == "text/html" {
		return "", decoded
	}
	return decoded, ""
}
