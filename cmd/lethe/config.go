package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is what every command reads from flags and LETHE_* variables; a
// flag beats its variable, which beats the default.
type Config struct {
	Addr        string
	DatabaseURL string
	Registry    string
	AdminToken  string
	SubjectKey  string
	ExportURL   string // where access packages go (a gocloud URL)
	ExportKey   string // hex or base64 of the 32-byte key that encrypts them
	SMTPURL     string // smtp://user:pass@host:port for end users' emails; "" logs them
	// SMTPInsecure allows an SMTP URL with ?tls=none outside --demo.
	SMTPInsecure bool
	PublicURL    string // where end users reach Lethe, the base of emailed links
	// TrustedProxies are the comma-separated CIDRs of the reverse proxies
	// whose X-Forwarded-For is believed for the per-IP limits; "" none.
	TrustedProxies string
	// ResponsesEvery is how often the responses of tenants that stopped
	// collecting them are purged, as a Go duration ("1m").
	ResponsesEvery string
}

// Env lists each variable the binary reads and the flag that overrides it.
// The deploy test checks deploy/ against this list.
var Env = map[string]string{
	"LETHE_ADDR":                  "addr",
	"LETHE_DATABASE_URL":          "database-url",
	"LETHE_CONFIG":                "config",
	"LETHE_ADMIN_TOKEN":           "admin-token",
	"LETHE_SUBJECT_KEY":           "subject-key",
	"LETHE_EXPORT_URL":            "export-url",
	"LETHE_EXPORT_KEY":            "export-key",
	"LETHE_SMTP_URL":              "smtp-url",
	"LETHE_SMTP_INSECURE":         "smtp-insecure",
	"LETHE_PUBLIC_URL":            "public-url",
	"LETHE_TRUSTED_PROXIES":       "trusted-proxies",
	"LETHE_RESPONSES_SWEEP_EVERY": "responses-sweep-every",
}

// minSubjectKey is the shortest LETHE_SUBJECT_KEY accepted: subjects are only
// as private as this key is secret and long.
const minSubjectKey = 32

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lethe "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// stateFlags registers the flags that locate the state store and its keys.
func (c *Config) stateFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", os.Getenv("LETHE_DATABASE_URL"), "state store: postgres://… or sqlite://PATH (env LETHE_DATABASE_URL; default sqlite://.lethe/lethe.db)")
	fs.StringVar(&c.SubjectKey, "subject-key", os.Getenv("LETHE_SUBJECT_KEY"), "secret for the HMAC that stands for emails in logs and audit, 32+ characters (env LETHE_SUBJECT_KEY)")
}

// serveFlags registers the flags of lethe serve.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.stateFlags(fs)
	fs.StringVar(&c.Addr, "addr", cmp.Or(os.Getenv("LETHE_ADDR"), "127.0.0.1:8080"), "listen address (env LETHE_ADDR)")
	fs.StringVar(&c.Registry, "config", os.Getenv("LETHE_CONFIG"), "path of the registry, lethe.yaml (env LETHE_CONFIG)")
	fs.StringVar(&c.AdminToken, "admin-token", os.Getenv("LETHE_ADMIN_TOKEN"), "admin bearer token (env LETHE_ADMIN_TOKEN)")
	fs.StringVar(&c.ExportURL, "export-url", os.Getenv("LETHE_EXPORT_URL"), "where access packages are stored, encrypted: a gocloud URL such as file:///var/lib/lethe/exports or s3://bucket (env LETHE_EXPORT_URL; default file://./.lethe/exports)")
	fs.StringVar(&c.ResponsesEvery, "responses-sweep-every", cmp.Or(os.Getenv("LETHE_RESPONSES_SWEEP_EVERY"), "1m"), "how often the responses of tenants with collect_responses off are purged, on the elected leader: a Go duration, 1s to 24h (env LETHE_RESPONSES_SWEEP_EVERY)")
	fs.StringVar(&c.SMTPURL, "smtp-url", os.Getenv("LETHE_SMTP_URL"), "SMTP server for end users' codes and links: smtp://user:pass@host:587?from=privacy@example.com, STARTTLS required; smtps:// for implicit TLS; ?tls=none sends in clear (env LETHE_SMTP_URL; unset: mails are logged with codes masked)")
	fs.BoolVar(&c.SMTPInsecure, "smtp-insecure", os.Getenv("LETHE_SMTP_INSECURE") == "1", "allow an SMTP URL with ?tls=none outside --demo: codes and links then cross the network in clear (env LETHE_SMTP_INSECURE=1)")
	fs.StringVar(&c.PublicURL, "public-url", os.Getenv("LETHE_PUBLIC_URL"), "where end users reach Lethe, the base of emailed download links, such as https://privacy.example.com (env LETHE_PUBLIC_URL; required with LETHE_SMTP_URL outside --demo; default http://<addr>, or http://127.0.0.1:<port> when listening on all interfaces)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", os.Getenv("LETHE_TRUSTED_PROXIES"), "comma-separated CIDRs of the reverse proxies whose X-Forwarded-For names the end user for self-service rate limits, such as 10.0.0.0/8,::1/128 (env LETHE_TRUSTED_PROXIES; default none: X-Forwarded-For is ignored)")
	fs.StringVar(&c.ExportKey, "export-key", os.Getenv("LETHE_EXPORT_KEY"), "32-byte key, hex or base64, that encrypts access packages at rest (env LETHE_EXPORT_KEY; without it access requests fail)")
}

// parse parses args into fs and refuses positional leftovers.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// responsesEvery parses ResponsesEvery. Errors: a usage error naming the
// variable when it is not a duration from 1s to 24h.
func (c *Config) responsesEvery() (time.Duration, error) {
	d, err := time.ParseDuration(cmp.Or(c.ResponsesEvery, "1m"))
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("%w: LETHE_RESPONSES_SWEEP_EVERY (or --responses-sweep-every) %q: give a duration from 1s to 24h, such as 1m", errUsage, c.ResponsesEvery)
	}
	return d, nil
}

func (c *Config) checkSubjectKey() error {
	if len(c.SubjectKey) < minSubjectKey {
		return fmt.Errorf("%w: LETHE_SUBJECT_KEY (or --subject-key) must be set to a secret of at least %d characters; it keys the hash that replaces emails in logs and the audit trail", errUsage, minSubjectKey)
	}
	return nil
}

// trustedProxies parses TrustedProxies. Errors: a usage error naming the
// variable for an entry that is no CIDR (a bare address counts as /32 or
// /128).
func (c *Config) trustedProxies() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			if ip := net.ParseIP(f); ip != nil {
				if ip.To4() != nil {
					f += "/32"
				} else {
					f += "/128"
				}
			}
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%w: LETHE_TRUSTED_PROXIES (or --trusted-proxies) %q: give comma-separated CIDRs such as 10.0.0.0/8,::1/128", errUsage, f)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// publicURL is the base of the links emailed to end users. A set PublicURL
// must be an http(s) URL. Without it: an error when LETHE_SMTP_URL is set
// outside the demo, since real mail would carry links to the listen
// address; else (mail goes to the log, or the demo's local tour)
// http://127.0.0.1:PORT when Addr listens on all interfaces, and ""
// otherwise, for lethe serve to use the listen address.
func (c *Config) publicURL(demo bool) (string, error) {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("%w: LETHE_PUBLIC_URL (or --public-url) must be an http(s) URL such as https://privacy.example.com", errUsage)
		}
		return c.PublicURL, nil
	}
	if c.SMTPURL != "" && !demo {
		return "", fmt.Errorf("%w: LETHE_PUBLIC_URL (or --public-url) must be set when LETHE_SMTP_URL is: it is where end users reach Lethe, the base of the links emailed to them, such as https://privacy.example.com", errUsage)
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "0" {
		return "", nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "http://" + net.JoinHostPort("127.0.0.1", port), nil
	}
	return "", nil
}
