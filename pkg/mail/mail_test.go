package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
)

// mailer returns the Mailer of srv's URL, trusting srv's certificate.
func mailer(t *testing.T, srv *mailtest.Server, url string) *mail.SMTP {
	t.Helper()
	m, err := mail.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	m.TLSConfig = srv.ClientTLS()
	return m
}

func TestSMTPDeliversToARealServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mode    mailtest.Mode
		auth    bool
		wantTLS bool
	}{
		{"starttls", mailtest.STARTTLS, false, true},
		{"starttls auth", mailtest.STARTTLS, true, true},
		{"implicit tls auth", mailtest.ImplicitTLS, true, true},
		{"tls=none", mailtest.Plain, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.StartMode(t, tc.mode)
			if tc.auth {
				srv.User, srv.Pass = "lethe", "s3cret"
			}
			m := mailer(t, srv, srv.URL())
			if m.Plaintext() == tc.wantTLS {
				t.Errorf("Plaintext() = %v for %s", m.Plaintext(), srv.URL())
			}
			body := "Your code: 123456\nA line with = and ünïcode that is long enough to be wrapped by quoted-printable encoding, surely.\n"
			if err := m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "Your code", Body: body, Secret: "123456"}); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, "ada@example.com", "Your code", 5*time.Second)
			if got.From != "privacy@lethe.test" || got.Code() != "123456" || got.Body != strings.ReplaceAll(body, "\r\n", "\n") {
				t.Errorf("received from %q code %q body %q", got.From, got.Code(), got.Body)
			}
			if got.TLS != tc.wantTLS {
				t.Errorf("message came over TLS: %v, want %v", got.TLS, tc.wantTLS)
			}
			if tc.auth && got.User != "lethe" {
				t.Errorf("authenticated as %q, want lethe", got.User)
			}
		})
	}
}

// TestSMTPRefusesAStrippedSTARTTLS: a server (or an attacker in between)
// that does not offer STARTTLS gets neither the password nor the message,
// unless the URL says ?tls=none.
func TestSMTPRefusesAStrippedSTARTTLS(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"", "lethe:s3cret@"} {
		srv := mailtest.Start(t) // offers no STARTTLS
		if user != "" {
			srv.User, srv.Pass = "lethe", "s3cret"
		}
		m := mailer(t, srv, "smtp://"+user+srv.Addr+"?from=privacy@lethe.test")
		err := m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "Your code", Body: "Your code: 123456\n"})
		if err == nil || !strings.Contains(err.Error(), "offers no STARTTLS, so nothing was sent in clear") {
			t.Fatalf("user %q: err = %v, want a refusal that names STARTTLS", user, err)
		}
		if n, a := len(srv.Messages()), srv.AuthAttempts(); n != 0 || a != 0 {
			t.Errorf("user %q: %d message(s) delivered and %d AUTH attempt(s) in clear, want none", user, n, a)
		}
	}
}

// TestSMTPRefusesAnUntrustedCertificate: STARTTLS to a server whose
// certificate the system does not trust fails before anything is sent.
func TestSMTPRefusesAnUntrustedCertificate(t *testing.T) {
	t.Parallel()
	for _, mode := range []mailtest.Mode{mailtest.STARTTLS, mailtest.ImplicitTLS} {
		srv := mailtest.StartMode(t, mode)
		m, err := mail.ParseURL(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		m.Timeout = 5 * time.Second
		err = m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "x", Body: "x"})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("mode %d: err = %v, want a certificate error", mode, err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("mode %d: %d messages delivered", mode, n)
		}
	}
}

func TestSMTPWrongPasswordIsAnError(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartMode(t, mailtest.STARTTLS)
	srv.User, srv.Pass = "lethe", "right"
	m := mailer(t, srv, "smtp://lethe:wrong@"+srv.Addr)
	err := m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "x", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want an AUTH error that does not repeat the password", err)
	}
	if n, a := len(srv.Messages()), srv.AuthAttempts(); n != 0 || a != 1 {
		t.Errorf("%d messages delivered after %d AUTH attempt(s), want 0 after 1", n, a)
	}
}

// TestSMTPErrorsMaskTheAddress: a server that echoes the address in its
// refusal does not put it in Lethe's errors, which are logged.
func TestSMTPErrorsMaskTheAddress(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartMode(t, mailtest.STARTTLS)
	srv.SetReject("Grace@Example.com")
	m := mailer(t, srv, srv.URL())
	err := m.Send(context.Background(), mail.Message{To: "grace@example.com", Subject: "x", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "RCPT TO") || !strings.Contains(err.Error(), "g***@example.com") ||
		strings.Contains(strings.ToLower(err.Error()), "grace@") {
		t.Fatalf("err = %v, want a RCPT TO error with the address masked", err)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, wantErr string
		plaintext          bool
	}{
		{"starttls", "smtp://mail.example.com:587", "", false},
		{"implicit tls", "smtps://u:p@mail.example.com", "", false},
		{"in clear", "smtp://relay.internal:25?tls=none", "", true},
		{"in clear with a password", "smtp://u:p@relay.internal?tls=none", "password in clear", false},
		{"implicit tls in clear", "smtps://mail.example.com?tls=none", "smtps://", false},
		{"unknown tls", "smtp://mail.example.com?tls=maybe", "tls=", false},
		{"bad scheme", "http://mail.example.com", "scheme", false},
		{"no host", "smtp://", "host", false},
		{"bad port", "smtp://mail.example.com:0", "port", false},
		{"bad from", "smtp://mail.example.com?from=nobody", "from", false},
		{"header injection", "smtp://mail.example.com?from=a@b%0d%0aBcc:x@y", "from", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mail.ParseURL(tc.url)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("ParseURL(%q) = %v, want error containing %q", tc.url, err, tc.wantErr)
			}
			if err == nil && m.Plaintext() != tc.plaintext {
				t.Errorf("ParseURL(%q).Plaintext() = %v", tc.url, m.Plaintext())
			}
			if err != nil && strings.Contains(err.Error(), ":p@") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestLogMasksAddressAndSecret(t *testing.T) {
	t.Parallel()
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		l := &mail.Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), ShowSecrets: show}
		if err := l.Send(context.Background(), mail.Message{To: "grace@example.com", Subject: "Your code", Body: "Your code: 654321\n", Secret: "654321"}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "grace@example.com") || !strings.Contains(out, "g***@example.com") {
			t.Errorf("address not masked: %s", out)
		}
		if strings.Contains(out, "654321") != show {
			t.Errorf("ShowSecrets=%v but the log %s the code: %s", show, map[bool]string{true: "shows", false: "hides"}[!show], out)
		}
	}
}
