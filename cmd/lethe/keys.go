package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// Key rotation. Each secret — LETHE_SUBJECT_KEY, LETHE_EXPORT_KEY,
// LETHE_AUDIT_KEY and LETHE_ADMIN_TOKEN — has a *_PREVIOUS variable: the
// keys it replaced, comma-separated, newest first. New material is made
// with the current key only; material made with a previous key is still
// matched, decrypted or verified. lethe keys rotate-check says what still
// depends on which key, so that the operator knows when a previous key
// may be dropped.

// splitKeys returns the comma-separated keys of s, trimmed, without
// empty ones.
func splitKeys(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// exportKeyPreviousFlag registers the flag of the export keys replaced.
func (c *Config) exportKeyPreviousFlag(fs *pflag.FlagSet) {
	fs.StringVar(&c.ExportKeyPrevious, "export-key-previous", "", "export keys replaced by --export-key, comma-separated, newest first: packages encrypted with them still download until they expire")
	bindEnv(fs, "export-key-previous", "LETHE_EXPORT_KEY_PREVIOUS")
}

// subjectHasher returns the hasher of the subject key that also matches
// values made with the previous ones. Errors: a previous key shorter than
// the current one must be, or equal to it.
func (c *Config) subjectHasher() (*dsr.SubjectHasher, error) {
	var prev [][]byte
	for i, k := range splitKeys(c.SubjectKeyPrevious) {
		if len(k) < minSubjectKey || k == c.SubjectKey {
			return nil, fmt.Errorf("%w: LETHE_SUBJECT_KEY_PREVIOUS (or --subject-key-previous): key %d of the list is shorter than %d characters or is the current key", errUsage, i+1, minSubjectKey)
		}
		prev = append(prev, []byte(k))
	}
	return dsr.NewSubjectHasher([]byte(c.SubjectKey)).WithPrevious(prev...), nil
}

// exportKeys returns the current export key and the previous ones.
// Errors: a key that is not 32 bytes in hex or base64, named by its place.
func (c *Config) exportKeys() (cur []byte, prev [][]byte, err error) {
	if cur, err = export.ParseKey(c.ExportKey); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	for i, k := range splitKeys(c.ExportKeyPrevious) {
		b, err := export.ParseKey(k)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: LETHE_EXPORT_KEY_PREVIOUS (or --export-key-previous): key %d of the list: %v", errUsage, i+1, err)
		}
		prev = append(prev, b)
	}
	return cur, prev, nil
}

// auditKeys returns the key of LETHE_AUDIT_KEY (nil when unset) and the
// public keys of the previous audit keys. Errors: a seed that does not
// parse, as a usage error, a previous one named by its place.
func (c *Config) auditKeys() (ed25519.PrivateKey, []ed25519.PublicKey, error) {
	var key ed25519.PrivateKey
	if c.AuditKey != "" {
		var err error
		if key, err = dsr.ParseAuditKey(c.AuditKey); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	prev, err := c.auditPrevious()
	if err != nil {
		return nil, nil, err
	}
	return key, prev, nil
}

// auditPrevious returns the public keys of the previous audit keys.
// Errors: a seed that does not parse, named by its place.
func (c *Config) auditPrevious() ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for i, k := range splitKeys(c.AuditKeyPrevious) {
		key, err := dsr.ParseAuditKey(k)
		if err != nil {
			return nil, fmt.Errorf("%w: LETHE_AUDIT_KEY_PREVIOUS (or --audit-key-previous): key %d of the list: %v", errUsage, i+1, err)
		}
		out = append(out, key.Public().(ed25519.PublicKey))
	}
	return out, nil
}

// checkPrevious checks the keys of every *_PREVIOUS variable, so that a
// mistyped one stops lethe serve before it listens. Errors: usage errors
// naming the variable and the place of the key in its list.
func (c *Config) checkPrevious() error {
	if _, err := c.subjectHasher(); err != nil {
		return err
	}
	if _, err := c.auditPrevious(); err != nil {
		return err
	}
	if c.ExportKeyPrevious != "" && c.ExportKey == "" {
		return fmt.Errorf("%w: LETHE_EXPORT_KEY_PREVIOUS is set without LETHE_EXPORT_KEY: set the current key too", errUsage)
	}
	if c.ExportKey != "" {
		if _, _, err := c.exportKeys(); err != nil {
			return err
		}
	}
	return nil
}

// keyFlags registers the flags of every key and the keys they replaced,
// for the commands that weigh them all.
func (c *Config) keyFlags(fs *pflag.FlagSet) {
	c.databaseFlag(fs)
	c.subjectKeyFlag(fs)
	c.auditFlags(fs)
	c.exportURLFlag(fs)
	fs.StringVar(&c.ExportKey, "export-key", "", "32-byte key, hex or base64, that encrypts access packages at rest")
	bindEnv(fs, "export-key", "LETHE_EXPORT_KEY")
	c.exportKeyPreviousFlag(fs)
}

// keyDependent is one line of rotate-check: rows of a kind made with a key.
type keyDependent struct {
	Kind, Secret, KeyID string
	Rows                int64
	Until               time.Time
	// Role: "current", "previous" or "missing" (not configured at all).
	Role string
}

// rotateCheck counts what depends on each key. With the keys of cfg
// (current and previous) it names each fingerprint's role; a dependent
// of a key that is configured nowhere is "missing".
func rotateCheck(ctx context.Context, cfg Config, db *state.DB, now time.Time) ([]keyDependent, error) {
	hasher, err := cfg.subjectHasher()
	if err != nil {
		return nil, err
	}
	role := func(id string, ids []string) string {
		switch i := slices.Index(ids, id); {
		case id == "" || i < 0:
			return "missing"
		case i == 0:
			return "current"
		}
		return "previous"
	}
	subjectIDs := hasher.KeyIDs()
	if cfg.SubjectKey == "" {
		subjectIDs = nil
	}
	var exportIDs []string
	if cfg.ExportKey != "" {
		cur, prev, err := cfg.exportKeys()
		if err != nil {
			return nil, err
		}
		for _, k := range append([][]byte{cur}, prev...) {
			exportIDs = append(exportIDs, dsr.KeyID(k))
		}
	}
	uses, err := state.KeyUses(ctx, db, now)
	if err != nil {
		return nil, err
	}
	var out []keyDependent
	for _, u := range uses {
		d := keyDependent{Kind: u.Kind, Secret: "LETHE_SUBJECT_KEY", KeyID: u.KeyID, Rows: u.Rows, Until: u.Until}
		ids := subjectIDs
		if u.Kind == state.KindPackages {
			d.Secret, ids = "LETHE_EXPORT_KEY", exportIDs
		}
		d.Role = role(u.KeyID, ids)
		out = append(out, d)
	}
	cps, err := checkpointKeys(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return append(out, cps...), nil
}

// checkpointKeys counts the anchor's checkpoints by the audit key that
// signed them; none without LETHE_AUDIT_KEY.
func checkpointKeys(ctx context.Context, cfg Config) ([]keyDependent, error) {
	if cfg.AuditKey == "" {
		return nil, nil
	}
	key, prev, err := cfg.auditKeys()
	if err != nil {
		return nil, err
	}
	pubs := append([]ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, prev...)
	bucket, err := openAnchorBucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer bucket.Close()
	cps, err := (&anchor.Store{Bucket: bucket}).Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	counts := make([]int64, len(pubs)+1) // the last: signed by no key configured
	for _, c := range cps {
		i := c.SignedBy(pubs)
		if i < 0 {
			i = len(pubs)
		}
		counts[i]++
	}
	var out []keyDependent
	for i, n := range counts {
		if n == 0 {
			continue
		}
		d := keyDependent{Kind: "audit checkpoints (audit key)", Secret: "LETHE_AUDIT_KEY", Rows: n, Role: "previous"}
		switch {
		case i == len(pubs):
			d.Role = "missing"
		case i == 0:
			d.Role = "current"
		}
		if i < len(pubs) {
			d.KeyID = dsr.KeyID(pubs[i])
		}
		out = append(out, d)
	}
	return out, nil
}

// errKeysMissing is rotate-check's answer while something depends on a
// key that is configured nowhere: exit status 1.
var errKeysMissing = errors.New("something still depends on a key that is not configured: put it back in the *_PREVIOUS variable named above")

// printRotateCheck writes the table of dependents and a verdict per
// secret. It returns errKeysMissing when a dependent's key is missing.
func printRotateCheck(w io.Writer, deps []keyDependent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECRET\tKEY ID\tROLE\tROWS\tWHAT\tUNTIL")
	missing, previous := map[string]bool{}, map[string]bool{}
	for _, d := range deps {
		id, until := d.KeyID, "-"
		if id == "" {
			id = "unrecorded"
		}
		if !d.Until.IsZero() {
			until = d.Until.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.Secret, id, d.Role, d.Rows, d.Kind, until)
		switch d.Role {
		case "missing":
			missing[d.Secret] = true
		case "previous":
			previous[d.Secret] = true
		}
	}
	tw.Flush()
	for _, s := range []string{"LETHE_SUBJECT_KEY", "LETHE_EXPORT_KEY", "LETHE_AUDIT_KEY"} {
		switch {
		case missing[s]:
			fmt.Fprintf(w, "%s: rows above need a key that is configured nowhere; put it back in %s_PREVIOUS\n", s, s)
		case previous[s]:
			fmt.Fprintf(w, "%s: keep %s_PREVIOUS; rows above still need a previous key\n", s, s)
		default:
			fmt.Fprintf(w, "%s: nothing depends on a previous key; %s_PREVIOUS may be removed\n", s, s)
		}
	}
	if len(missing) > 0 {
		return errKeysMissing
	}
	return nil
}

// newKeysRotateCheckCmd is "lethe keys rotate-check".
func newKeysRotateCheckCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "rotate-check",
		Short: "Say what still depends on each subject, export and audit key",
		Long: `Count, per key fingerprint (first 8 bytes of HMAC(key, "lethe key id"), never
the key), what of the state store and the audit anchor still needs a key: open
requests, requests with a live access package and active legal holds by
subject key, access packages not expired by export key, audit checkpoints by
audit key, and the tenant keys replaced by a rotation. Each is "current",
"previous" (in a *_PREVIOUS variable) or "missing" (configured nowhere). A
previous key may be dropped once no line names it. Exit 1 while a line is
missing: put that key back before going on. Reads the same variables as lethe
serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := cfg.checkSubjectKey(); err != nil {
				return err
			}
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			now := time.Now()
			deps, err := rotateCheck(ctx, cfg, db, now)
			if err != nil {
				return err
			}
			valid, expired, err := state.TenantKeyOverlaps(ctx, db, now)
			if err != nil {
				return err
			}
			err = printRotateCheck(c.stdout, deps)
			fmt.Fprintf(c.stdout, "tenant keys: %d rotated and still valid until their expiry, %d rotated and past it (refused)\n", valid, expired)
			return err
		},
	}
	cfg.keyFlags(cmd.Flags())
	return cmd
}

// newKeysMigrateCmd is "lethe keys migrate".
func newKeysMigrateCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move what can be moved to the current keys",
		Long: `Re-hash the subjects of the rows that still hold their email (open requests,
active legal holds) with the current LETHE_SUBJECT_KEY (lethe serve also does
it when it starts), and, after verifying the whole audit trail against every
checkpoint with the current and previous audit keys, re-sign the checkpoints
signed by a previous key with LETHE_AUDIT_KEY. Audit entries are never
rewritten. Access packages are not re-encrypted: they expire. Reads the same
variables as lethe serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := cfg.checkSubjectKey(); err != nil {
				return err
			}
			hasher, err := cfg.subjectHasher()
			if err != nil {
				return err
			}
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := state.RehashSubjects(ctx, db, hasher)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "subjects: %d rows moved to the current subject key %s\n", n, hasher.KeyID())
			if cfg.AuditKey == "" {
				fmt.Fprintln(c.stdout, "audit checkpoints: LETHE_AUDIT_KEY is not set; nothing re-signed")
				return nil
			}
			log, bucket, err := auditLog(ctx, cfg, db, nil)
			if err != nil {
				return err
			}
			defer bucket.Close()
			m, err := log.Resign(ctx)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(c.stdout, "audit checkpoints: %d re-signed with the current audit key %s\n", m, dsr.KeyID(log.Anchor.Keys()[0]))
			return nil
		},
	}
	cfg.keyFlags(cmd.Flags())
	return cmd
}

// newKeysRotateCmd is "lethe keys rotate --tenant T --id K --old-valid-until".
func newKeysRotateCmd(c *cli) *cobra.Command {
	var cfg Config
	var tenant, id, until string
	cmd := &cobra.Command{
		Use:   "rotate --tenant T --id K --old-valid-until 2026-12-01T00:00:00Z",
		Short: "Replace a tenant key, keeping the old one valid until a time",
		Long: `Issue a new key for the tenant (the token is printed once) and keep key K
working until --old-valid-until (RFC 3339, at most 90 days ahead), after which
it is refused. Reads LETHE_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "tenant", "id", "old-valid-until"); err != nil {
				return err
			}
			t, err := time.Parse(time.RFC3339, until)
			if err != nil {
				return fmt.Errorf("%w: --old-valid-until: an RFC 3339 time such as 2026-12-01T00:00:00Z", errUsage)
			}
			ctx := cmd.Context()
			db, err := state.Open(ctx, cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer db.Close()
			keys := &state.KeyService{DB: db, Audit: &state.AuditLog{DB: db}}
			k, err := keys.Rotate(ctx, "cli", tenant, id, t)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(c.stdout, "key %s for tenant %s replaces %s, which works until %s (the token is shown once; keep it secret):\n%s\n",
				k.ID, k.Tenant, id, k.OldValidUntil.Format(time.RFC3339), k.Token)
			return nil
		},
	}
	cfg.databaseFlag(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&tenant, "tenant", "", "tenant of the key (required)")
	fs.StringVar(&id, "id", "", "id of the key to replace, the 16 hex digits after lethe_ in its token (required)")
	fs.StringVar(&until, "old-valid-until", "", "when the old key stops working, RFC 3339 (required)")
	return cmd
}
