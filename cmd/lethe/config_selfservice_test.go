package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestPublicURLCheck: real mail needs LETHE_PUBLIC_URL; logged mail falls
// back to a reachable address, never the unspecified one.
func TestPublicURLCheck(t *testing.T) {
	_, err := (&Config{Addr: "127.0.0.1:8080", SMTPURL: "smtp://mail.example.com:587?from=p@example.com"}).publicURL(false)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "LETHE_PUBLIC_URL") {
		t.Errorf("SMTP without public URL: %v", err)
	}
	// The demo's local tour may mail links to the listen address.
	if got, err := (&Config{Addr: "127.0.0.1:0", SMTPURL: "smtp://m:587"}).publicURL(true); err != nil || got != "" {
		t.Errorf("demo with SMTP: %q, %v", got, err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Addr: "0.0.0.0:8080", SMTPURL: "smtp://m:587", PublicURL: "https://privacy.example.com"}, "https://privacy.example.com"},
		{Config{Addr: "0.0.0.0:8080"}, "http://127.0.0.1:8080"},
		{Config{Addr: "[::]:9000"}, "http://127.0.0.1:9000"},
		{Config{Addr: ":8080"}, "http://127.0.0.1:8080"},
		{Config{Addr: "127.0.0.1:8080"}, ""}, // lethe serve uses the listen address
	} {
		got, err := c.cfg.publicURL(false)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.cfg, got, err, c.want)
		}
	}
	if _, err := (&Config{PublicURL: "privacy.example.com"}).publicURL(false); !errors.Is(err, errUsage) {
		t.Errorf("public URL without scheme: %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	nets, err := (&Config{TrustedProxies: " 10.0.0.0/8, ::1 ,192.0.2.7"}).trustedProxies()
	if err != nil || len(nets) != 3 || nets[0].String() != "10.0.0.0/8" || nets[1].String() != "::1/128" || nets[2].String() != "192.0.2.7/32" {
		t.Errorf("trustedProxies: %v, %v", nets, err)
	}
	if nets, err := (&Config{}).trustedProxies(); err != nil || len(nets) != 0 {
		t.Errorf("none: %v, %v", nets, err)
	}
	if _, err := (&Config{TrustedProxies: "10.0.0.0/8,proxy"}).trustedProxies(); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "LETHE_TRUSTED_PROXIES") {
		t.Errorf("bad entry: %v", err)
	}
}

// TestSMTPInClearNeedsConsent: an SMTP URL with ?tls=none is refused by
// lethe serve outside --demo unless LETHE_SMTP_INSECURE=1 (or
// --smtp-insecure) says so; a URL that requires TLS needs neither.
func TestSMTPInClearNeedsConsent(t *testing.T) {
	const clear, tls = "smtp://relay.internal:25?from=p@example.com&tls=none", "smtp://mail.example.com:587?from=p@example.com"
	for _, tc := range []struct {
		name     string
		url      string
		args     []string
		env      string
		wantUsed bool
	}{
		{name: "in clear", url: clear},
		{name: "in clear, demo", url: clear, args: []string{"--demo"}, wantUsed: true},
		{name: "in clear, LETHE_SMTP_INSECURE=1", url: clear, env: "1", wantUsed: true},
		{name: "in clear, LETHE_SMTP_INSECURE=yes", url: clear, env: "yes"},
		{name: "in clear, --smtp-insecure", url: clear, args: []string{"--smtp-insecure"}, wantUsed: true},
		{name: "TLS", url: tls, wantUsed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(io.Discard, io.Discard)
			cmd := &cobra.Command{}
			m.flags(cmd)
			args := append([]string{"--smtp-url", tc.url, "--public-url", "https://privacy.example.com"}, tc.args...)
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			err := applyEnv(cmd.Flags(), func(k string) string { return map[string]string{"LETHE_SMTP_INSECURE": tc.env}[k] })
			var svc *selfservice.Service
			if err == nil {
				svc, err = newSelfService(m.Config, m.Demo, &services{}, nil, m.Config.PublicURL, nil, m.Logger)
			}
			if !tc.wantUsed {
				// "yes" is no boolean: refused when the variable is read.
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "LETHE_SMTP_INSECURE") {
					t.Fatalf("err = %v, want a usage error naming LETHE_SMTP_INSECURE", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := svc.Mail.(*mail.SMTP); !ok || s.Plaintext() != (tc.url == clear) {
				t.Errorf("mailer %T, want the SMTP mailer of %s", svc.Mail, tc.url)
			}
		})
	}
}
