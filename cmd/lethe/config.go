package main

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	// The *Previous fields are the comma-separated keys (or tokens) that
	// the current ones replaced: still accepted, matched and verified,
	// never used to make anything new (see keys.go).
	AdminTokenPrevious string
	SubjectKeyPrevious string
	ExportKeyPrevious  string
	AuditKeyPrevious   string
	SMTPURL            string // smtp://user:pass@host:port for end users' emails; "" logs them
	// SMTPInsecure allows an SMTP URL with ?tls=none outside --demo.
	SMTPInsecure bool
	PublicURL    string // where end users reach Lethe, the base of emailed links
	// TrustedProxies are the comma-separated CIDRs of the reverse proxies
	// whose X-Forwarded-For is believed for the per-IP limits; "" none.
	TrustedProxies string
	// ResponsesEvery is how often the responses of tenants that stopped
	// collecting them are purged, as a Go duration ("1m").
	ResponsesEvery string
	// Heartbeat is how often lethe serve renews its heartbeat, as a Go
	// duration ("5s"); a process silent for three beats is taken for dead.
	Heartbeat string
	// HTTP bounds the server's connections (see httpserver.go).
	HTTP Timeouts
	// AuditKey is the Ed25519 seed (hex or base64) that signs the audit
	// chain's checkpoints; "" leaves the trail unanchored.
	AuditKey string
	// AuditAnchorURL is the gocloud bucket of the checkpoints; "" means the
	// export bucket.
	AuditAnchorURL string
	// AuditVerifyEvery is how often the elected leader verifies the audit
	// chain and its checkpoints for /metrics, as a Go duration ("10m").
	AuditVerifyEvery string
	// OpenDSRKey is the PEM private key (or its file) that signs OpenDSR
	// responses and callbacks; "" leaves OpenDSR off.
	OpenDSRKey string
	// OpenDSRPrivateCallbacks lets callbacks reach loopback and private
	// addresses (always on with --demo).
	OpenDSRPrivateCallbacks bool
	// KnownPeopleMax bounds each studio's dictionary of known people; 0
	// turns the dictionaries off.
	KnownPeopleMax int
	// KnownPeopleEvery is the pace of their incremental walk ("1m").
	KnownPeopleEvery string
}

// minSubjectKey is the shortest LETHE_SUBJECT_KEY accepted: subjects are only
// as private as this key is secret and long.
const minSubjectKey = 32

// databaseFlag registers the flag that locates the state store.
func (c *Config) databaseFlag(fs *pflag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "", "state store: postgres://… or sqlite://PATH (default sqlite://.lethe/lethe.db)")
	bindEnv(fs, "database-url", "LETHE_DATABASE_URL")
}

// subjectKeyFlag registers the flag of the secret that keys the subject
// hash.
func (c *Config) subjectKeyFlag(fs *pflag.FlagSet) {
	fs.StringVar(&c.SubjectKey, "subject-key", "", "secret for the HMAC that stands for emails in logs and audit, 32+ characters")
	bindEnv(fs, "subject-key", "LETHE_SUBJECT_KEY")
	fs.StringVar(&c.SubjectKeyPrevious, "subject-key-previous", "", "subject keys replaced by --subject-key, comma-separated, newest first: rows hashed with them still match until lethe keys rotate-check says none is left")
	bindEnv(fs, "subject-key-previous", "LETHE_SUBJECT_KEY_PREVIOUS")
}

// registryFlag registers the flag that names the registry.
func (c *Config) registryFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.Registry, "config", "", "path of the registry, lethe.yaml")
	bindEnv(cmd.Flags(), "config", "LETHE_CONFIG")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
}

// auditFlags registers the flags that sign and anchor the audit trail, and
// the export bucket where the checkpoints are kept by default.
func (c *Config) auditFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.AuditKey, "audit-key", "", "Ed25519 seed, 32 bytes in hex or base64 (openssl rand -hex 32), that signs checkpoints of the audit chain kept outside the state store (unset: the trail is not anchored)")
	bindEnv(fs, "audit-key", "LETHE_AUDIT_KEY")
	fs.StringVar(&c.AuditKeyPrevious, "audit-key-previous", "", "audit keys replaced by --audit-key, comma-separated, newest first: checkpoints they signed still verify (lethe keys migrate re-signs them with the current key)")
	bindEnv(fs, "audit-key-previous", "LETHE_AUDIT_KEY_PREVIOUS")
	fs.StringVar(&c.AuditAnchorURL, "audit-anchor-url", "", "gocloud bucket URL where the audit checkpoints are kept (default the export bucket, under audit/checkpoints/)")
	bindEnv(fs, "audit-anchor-url", "LETHE_AUDIT_ANCHOR_URL")
}

// exportURLFlag registers the flag of the export bucket.
func (c *Config) exportURLFlag(fs *pflag.FlagSet) {
	fs.StringVar(&c.ExportURL, "export-url", "", "where access packages are stored, encrypted: a gocloud URL such as file:///var/lib/lethe/exports or s3://bucket (default file://./.lethe/exports)")
	bindEnv(fs, "export-url", "LETHE_EXPORT_URL")
}

// serveFlags registers the flags of lethe serve.
func (c *Config) serveFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	c.databaseFlag(fs)
	c.subjectKeyFlag(fs)
	c.registryFlag(cmd)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	bindEnv(fs, "addr", "LETHE_ADDR")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin bearer token")
	bindEnv(fs, "admin-token", "LETHE_ADMIN_TOKEN")
	fs.StringVar(&c.AdminTokenPrevious, "admin-token-previous", "", "admin tokens replaced by --admin-token, comma-separated: still accepted until removed from this list")
	bindEnv(fs, "admin-token-previous", "LETHE_ADMIN_TOKEN_PREVIOUS")
	c.exportURLFlag(fs)
	c.auditFlags(fs)
	fs.StringVar(&c.AuditVerifyEvery, "audit-verify-every", "10m", "how often the elected leader verifies the audit chain and its signed checkpoints, as lethe audit verify does, for lethe_audit_verified on /metrics: a Go duration, 1s to 24h")
	bindEnv(fs, "audit-verify-every", "LETHE_AUDIT_VERIFY_EVERY")
	fs.StringVar(&c.ResponsesEvery, "responses-sweep-every", "1m", "how often the responses of tenants with collect_responses off are purged, on the elected leader: a Go duration, 1s to 24h")
	bindEnv(fs, "responses-sweep-every", "LETHE_RESPONSES_SWEEP_EVERY")
	fs.StringVar(&c.Heartbeat, "heartbeat", "5s", "how often this process renews its heartbeat in the state store; the requests and sweeps of a process silent for three beats are resumed by a live one: a Go duration, 100ms to 10s")
	bindEnv(fs, "heartbeat", "LETHE_HEARTBEAT")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "SMTP server for end users' codes and links: smtp://user:pass@host:587?from=privacy@example.com, STARTTLS required; smtps:// for implicit TLS; ?tls=none sends in clear (unset: mails are logged with codes masked)")
	bindEnv(fs, "smtp-url", "LETHE_SMTP_URL")
	fs.BoolVar(&c.SMTPInsecure, "smtp-insecure", false, "allow an SMTP URL with ?tls=none outside --demo: codes and links then cross the network in clear (1 or true)")
	bindEnv(fs, "smtp-insecure", "LETHE_SMTP_INSECURE")
	fs.StringVar(&c.PublicURL, "public-url", "", "where end users reach Lethe, the base of emailed download links, such as https://privacy.example.com (required with LETHE_SMTP_URL outside --demo; default http://<addr>, or http://127.0.0.1:<port> when listening on all interfaces)")
	bindEnv(fs, "public-url", "LETHE_PUBLIC_URL")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated CIDRs of the reverse proxies whose X-Forwarded-For names the end user for self-service rate limits, such as 10.0.0.0/8,::1/128 (default none: X-Forwarded-For is ignored)")
	bindEnv(fs, "trusted-proxies", "LETHE_TRUSTED_PROXIES")
	fs.StringVar(&c.ExportKey, "export-key", "", "32-byte key, hex or base64, that encrypts access packages at rest (without it access requests fail)")
	bindEnv(fs, "export-key", "LETHE_EXPORT_KEY")
	c.exportKeyPreviousFlag(fs)
	fs.StringVar(&c.OpenDSRKey, "opendsr-key", "", "PEM RSA or ECDSA private key, or the path of a file holding it, that signs OpenDSR responses and callbacks; a CERTIFICATE block after it is served, else a self-signed one (unset: the OpenDSR routes answer 503)")
	bindEnv(fs, "opendsr-key", "LETHE_OPENDSR_KEY")
	fs.BoolVar(&c.OpenDSRPrivateCallbacks, "opendsr-private-callbacks", false, "let OpenDSR callbacks reach loopback and private addresses, for controllers on the same network (1 or true; on with --demo)")
	bindEnv(fs, "opendsr-private-callbacks", "LETHE_OPENDSR_PRIVATE_CALLBACKS")
	c.timeoutFlags(fs)
	c.knownPeopleFlags(fs)
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

// auditVerifyEvery parses AuditVerifyEvery. Errors: a usage error naming
// the variable when it is not a duration from 1s to 24h.
func (c *Config) auditVerifyEvery() (time.Duration, error) {
	d, err := time.ParseDuration(cmp.Or(c.AuditVerifyEvery, "10m"))
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("%w: LETHE_AUDIT_VERIFY_EVERY (or --audit-verify-every) %q: give a duration from 1s to 24h, such as 10m", errUsage, c.AuditVerifyEvery)
	}
	return d, nil
}

// heartbeat parses Heartbeat. Errors: a usage error naming the variable
// when it is not a duration from 100ms to 10s (longer would let a dead
// process's requests wait past 30 seconds).
func (c *Config) heartbeat() (time.Duration, error) {
	d, err := time.ParseDuration(cmp.Or(c.Heartbeat, "5s"))
	if err != nil || d < 100*time.Millisecond || d > 10*time.Second {
		return 0, fmt.Errorf("%w: LETHE_HEARTBEAT (or --heartbeat) %q: give a duration from 100ms to 10s, such as 5s", errUsage, c.Heartbeat)
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
