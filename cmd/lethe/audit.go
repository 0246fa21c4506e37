package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"time"

	"gocloud.dev/blob"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// auditCheckpointEvery is how often the leader checkpoints the audit
// chain, besides after every completed erasure.
const auditCheckpointEvery = 10 * time.Minute

// openAnchor opens the checkpoint bucket (LETHE_AUDIT_ANCHOR_URL, or the
// export bucket) with the key of LETHE_AUDIT_KEY; nil without a key.
// Close the returned bucket. Errors: a key that does not parse, a bucket
// that cannot be opened.
func openAnchor(ctx context.Context, c *Config) (*state.Anchor, *blob.Bucket, error) {
	if c.AuditKey == "" {
		return nil, nil, nil
	}
	key, err := dsr.ParseAuditKey(c.AuditKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	bucket, err := openAnchorBucket(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return &state.Anchor{Store: &anchor.Store{Bucket: bucket}, Key: key}, bucket, nil
}

func openAnchorBucket(ctx context.Context, c *Config) (*blob.Bucket, error) {
	url, err := export.ResolveURL(cmp.Or(c.AuditAnchorURL, c.ExportURL))
	if err != nil {
		return nil, fmt.Errorf("LETHE_AUDIT_ANCHOR_URL: %w", err)
	}
	bucket, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("LETHE_AUDIT_ANCHOR_URL: open the checkpoint bucket: %w", err)
	}
	return bucket, nil
}

// runAudit is "lethe audit verify|export|pubkey".
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	var c Config
	fs := newFlagSet("audit "+sub, stderr)
	switch sub {
	case "pubkey":
		c.auditFlags(fs)
		if err := parse(fs, args); err != nil {
			return err
		}
		key, err := dsr.ParseAuditKey(c.AuditKey)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		fmt.Fprintln(stdout, dsr.FormatPublicKey(key.Public().(ed25519.PublicKey)))
		return nil
	case "verify":
		var file, pubkey string
		c.stateFlags(fs)
		c.auditFlags(fs)
		fs.StringVar(&c.ExportURL, "export-url", os.Getenv("LETHE_EXPORT_URL"), "the export bucket, where checkpoints are kept unless LETHE_AUDIT_ANCHOR_URL says otherwise (env LETHE_EXPORT_URL)")
		fs.StringVar(&file, "file", "", "check a file written by lethe audit export instead of the state store (needs --pubkey)")
		fs.StringVar(&pubkey, "pubkey", "", "the public key printed by lethe audit pubkey: checks the checkpoints without the private key")
		if err := parse(fs, args); err != nil {
			return err
		}
		return auditVerify(ctx, &c, file, pubkey, stdout)
	case "export":
		var out string
		c.stateFlags(fs)
		c.auditFlags(fs)
		fs.StringVar(&c.ExportURL, "export-url", os.Getenv("LETHE_EXPORT_URL"), "the export bucket, where checkpoints are kept unless LETHE_AUDIT_ANCHOR_URL says otherwise (env LETHE_EXPORT_URL)")
		fs.StringVar(&out, "out", "", "file to write (default standard output)")
		if err := parse(fs, args); err != nil {
			return err
		}
		return auditExport(ctx, &c, out, stdout)
	}
	return fmt.Errorf("%w: lethe audit verify|export|pubkey", errUsage)
}

// auditVerify checks the live chain (against the anchor when a key or
// pubkey is given) or, with file, an export with pubkey alone.
func auditVerify(ctx context.Context, c *Config, file, pubkey string, stdout io.Writer) error {
	var pub ed25519.PublicKey
	if pubkey != "" {
		var err error
		if pub, err = dsr.ParsePublicKey(pubkey); err != nil {
			return fmt.Errorf("%w: --pubkey: %v", errUsage, err)
		}
	}
	var v *dsr.AuditVerification
	if file != "" {
		if pub == nil {
			return fmt.Errorf("%w: --file needs --pubkey (lethe audit pubkey prints it where LETHE_AUDIT_KEY is set)", errUsage)
		}
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		defer f.Close()
		if v, err = dsr.VerifyAuditExport(f, pub); err != nil {
			return fmt.Errorf("%w: %v", errFailed, err)
		}
	} else {
		db, err := openState(ctx, c)
		if err != nil {
			return err
		}
		defer db.Close()
		log := &state.AuditLog{DB: db}
		if c.AuditKey != "" || pub != nil {
			bucket, err := openAnchorBucket(ctx, c)
			if err != nil {
				return err
			}
			defer bucket.Close()
			log.Anchor = &state.Anchor{Store: &anchor.Store{Bucket: bucket}, PublicKey: pub}
			if pub == nil {
				if log.Anchor.PublicKey, err = auditPublicKey(c); err != nil {
					return err
				}
			}
		}
		if v, err = log.Verify(ctx); err != nil {
			return cliError(err)
		}
	}
	if !v.OK {
		where := fmt.Sprintf("entry %d", v.BadSeq)
		if v.BadTo > v.BadSeq {
			where = fmt.Sprintf("entries %d to %d", v.BadSeq, v.BadTo)
		}
		fmt.Fprintf(stdout, "audit chain BROKEN at %s: %s (%d entries read)\n", where, v.Problem, v.Entries)
		return fmt.Errorf("%w: audit chain broken", errFailed)
	}
	switch cp := v.Checkpoint; {
	case cp != nil:
		fmt.Fprintf(stdout, "audit chain ok: %d entries; matches %d signed checkpoint(s), the newest of entry %d signed %s",
			v.Entries, cp.Checked, cp.Seq, cp.At.Format(time.RFC3339))
		if v.Entries > cp.Seq {
			fmt.Fprintf(stdout, " (entries %d to %d await the next checkpoint)", cp.Seq+1, v.Entries)
		}
		fmt.Fprintln(stdout)
	case v.Anchored:
		fmt.Fprintf(stdout, "audit chain ok: %d entries; no signed checkpoint written yet (lethe serve writes one every %s and after each erasure)\n", v.Entries, auditCheckpointEvery)
	default:
		fmt.Fprintf(stdout, "audit chain ok: %d entries (no signed checkpoint checked: set LETHE_AUDIT_KEY or --pubkey)\n", v.Entries)
	}
	return nil
}

func auditPublicKey(c *Config) (ed25519.PublicKey, error) {
	key, err := dsr.ParseAuditKey(c.AuditKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return key.Public().(ed25519.PublicKey), nil
}

// auditExport writes the trail and its checkpoints (after a fresh one
// when LETHE_AUDIT_KEY is set) to out or stdout.
func auditExport(ctx context.Context, c *Config, out string, stdout io.Writer) error {
	db, err := openState(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	log := &state.AuditLog{DB: db}
	a, bucket, err := openAnchor(ctx, c)
	if err != nil {
		return err
	}
	if bucket != nil {
		defer bucket.Close()
		log.Anchor = a
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		defer f.Close()
		w = f
	}
	if err := log.Export(ctx, w); err != nil {
		return cliError(err)
	}
	return nil
}
