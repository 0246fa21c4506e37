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

func TestSMTPDeliversToARealServer(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"anonymous", "auth"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t)
			if name == "auth" {
				srv.User, srv.Pass = "lethe", "s3cret"
			}
			m, err := mail.ParseURL(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			body := "Your code: 123456\nA line with = and ünïcode that is long enough to be wrapped by quoted-printable encoding, surely.\n"
			if err := m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "Your code", Body: body, Secret: "123456"}); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, "ada@example.com", "Your code", 5*time.Second)
			if got.From != "privacy@lethe.test" || got.Code() != "123456" || got.Body != strings.ReplaceAll(body, "\r\n", "\n") {
				t.Errorf("received from %q code %q body %q", got.From, got.Code(), got.Body)
			}
			if name == "auth" && got.User != "lethe" {
				t.Errorf("authenticated as %q, want lethe", got.User)
			}
		})
	}
}

func TestSMTPWrongPasswordIsAnError(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	srv.User, srv.Pass = "lethe", "right"
	m, err := mail.ParseURL("smtp://lethe:wrong@" + srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "x", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want an AUTH error that does not repeat the password", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

// TestSMTPErrorsMaskTheAddress: a server that echoes the address in its
// refusal does not put it in Lethe's errors, which are logged.
func TestSMTPErrorsMaskTheAddress(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	srv.SetReject("Grace@Example.com")
	m, err := mail.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "grace@example.com", Subject: "x", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "RCPT TO") || !strings.Contains(err.Error(), "g***@example.com") ||
		strings.Contains(strings.ToLower(err.Error()), "grace@") {
		t.Fatalf("err = %v, want a RCPT TO error with the address masked", err)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url, wantErr string }{
		{"plain", "smtp://mail.example.com:587", ""},
		{"implicit tls", "smtps://u:p@mail.example.com", ""},
		{"bad scheme", "http://mail.example.com", "scheme"},
		{"no host", "smtp://", "host"},
		{"bad from", "smtp://mail.example.com?from=nobody", "from"},
		{"header injection", "smtp://mail.example.com?from=a@b%0d%0aBcc:x@y", "from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mail.ParseURL(tc.url)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("ParseURL(%q) = %v, want error containing %q", tc.url, err, tc.wantErr)
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
