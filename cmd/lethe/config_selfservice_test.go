package main

import (
	"errors"
	"strings"
	"testing"
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
