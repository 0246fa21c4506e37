package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
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
// export bucket) with the key of LETHE_AUDIT_KEY, and keeps the bucket for
// Close; nil, with a warning, without a key.
func (m *Main) openAnchor(ctx context.Context, cfg Config) (*state.Anchor, error) {
	if cfg.AuditKey == "" {
		m.Logger.Warn("LETHE_AUDIT_KEY is not set: the audit trail has no signed checkpoints, so a writer of the state store could rewrite it unseen")
		return nil, nil
	}
	key, prev, err := cfg.auditKeys()
	if err != nil {
		return nil, err
	}
	if m.Anchor, err = openAnchorBucket(ctx, cfg); err != nil {
		return nil, err
	}
	return &state.Anchor{Store: &anchor.Store{Bucket: m.Anchor}, Key: key, Previous: prev}, nil
}

// checkAnchor logs, at start, an audit chain that diverged from its
// anchor: the state store was restored from a backup (or rewritten).
// Serving goes on, the in-flight requests of the restored store resume,
// but no checkpoint is written, and lethe_audit_anchor_diverged is 1 (the
// LetheAuditAnchorDiverged alert; /readyz stays ready), until an operator runs
// lethe audit accept-restore.
func (m *Main) checkAnchor(ctx context.Context, audit *state.AuditLog) {
	if err := audit.CheckAnchor(ctx); err != nil {
		m.Logger.Error("audit anchor check failed", "error", err,
			"fix", "if the state store was restored from a backup, run lethe audit accept-restore (deploy/README.md, Backups and restore)")
	}
}

func openAnchorBucket(ctx context.Context, cfg Config) (*blob.Bucket, error) {
	url, err := export.ResolveURL(cmp.Or(cfg.AuditAnchorURL, cfg.ExportURL))
	if err != nil {
		return nil, fmt.Errorf("LETHE_AUDIT_ANCHOR_URL: %w", err)
	}
	bucket, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("LETHE_AUDIT_ANCHOR_URL: open the checkpoint bucket: %w", err)
	}
	return bucket, nil
}

// auditLog opens the trail of the state store for a command, with its
// anchor when a key or a public key is given; close the bucket returned.
func auditLog(ctx context.Context, cfg Config, db *state.DB, pub ed25519.PublicKey) (*state.AuditLog, *blob.Bucket, error) {
	log := &state.AuditLog{DB: db}
	if cfg.AuditKey == "" && pub == nil {
		return log, nil, nil
	}
	key, prev, err := cfg.auditKeys()
	if err != nil {
		return nil, nil, err
	}
	a := &state.Anchor{Key: key, PublicKey: pub, Previous: prev}
	bucket, err := openAnchorBucket(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	a.Store = &anchor.Store{Bucket: bucket}
	log.Anchor = a
	return log, bucket, nil
}

// withAuditLog runs fn on the trail of the state store (migrated first)
// with its anchor, as auditLog opens it, and closes both after.
func withAuditLog(ctx context.Context, cfg Config, pub ed25519.PublicKey, fn func(*state.AuditLog) error) error {
	db, err := state.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	log, bucket, err := auditLog(ctx, cfg, db, pub)
	if err != nil {
		return err
	}
	if bucket != nil {
		defer bucket.Close()
	}
	return fn(log)
}

// newAuditVerifyCmd is "lethe audit verify": exit 0 when the chain is
// whole and matches its signed checkpoints, 1 when not.
func newAuditVerifyCmd(c *cli) *cobra.Command {
	var cfg Config
	var file, pubkey string
	cmd := &cobra.Command{
		Use:   "verify [--pubkey K] [--file F]",
		Short: "Check the audit trail's hash chain against its signed checkpoints",
		Long: `Walk the audit trail and check its hash chain and, with LETHE_AUDIT_KEY or
--pubkey, the chain against every signed checkpoint in the anchor bucket; name
the entries changed or missing. With --file, check a file written by lethe
audit export with --pubkey alone, on any machine. Exit 1 when the chain is
broken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var pubs []ed25519.PublicKey
			for _, k := range splitKeys(pubkey) {
				pub, err := dsr.ParsePublicKey(k)
				if err != nil {
					return fmt.Errorf("%w: --pubkey: %v", errUsage, err)
				}
				pubs = append(pubs, pub)
			}
			var pub ed25519.PublicKey
			if len(pubs) > 0 {
				pub = pubs[0]
			}
			v, err := auditVerify(cmd.Context(), cfg, file, pub, pubs[min(1, len(pubs)):]...)
			if err != nil {
				return err
			}
			return printVerification(c.stdout, v)
		},
	}
	fs := cmd.Flags()
	cfg.databaseFlag(fs)
	cfg.auditFlags(fs)
	cfg.exportURLFlag(fs)
	fs.StringVar(&file, "file", "", "check a file written by lethe audit export instead of the state store (needs --pubkey)")
	fs.StringVar(&pubkey, "pubkey", "", "the public key lethe audit pubkey prints: checks the checkpoints without the private key; after a rotation, the current one then the previous ones, comma-separated")
	return cmd
}

func auditVerify(ctx context.Context, cfg Config, file string, pub ed25519.PublicKey, previous ...ed25519.PublicKey) (*dsr.AuditVerification, error) {
	if file != "" {
		if pub == nil {
			return nil, fmt.Errorf("%w: --file needs --pubkey (lethe audit pubkey prints it where LETHE_AUDIT_KEY is set)", errUsage)
		}
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		defer f.Close()
		v, err := dsr.VerifyAuditExport(f, pub, previous...)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errFailed, err)
		}
		return v, nil
	}
	var v *dsr.AuditVerification
	err := withAuditLog(ctx, cfg, pub, func(log *state.AuditLog) (err error) {
		if log.Anchor != nil {
			log.Anchor.Previous = append(log.Anchor.Previous, previous...)
		}
		v, err = log.Verify(ctx)
		return err
	})
	return v, err
}

func printVerification(w io.Writer, v *dsr.AuditVerification) error {
	if !v.OK {
		where := fmt.Sprintf("entry %d", v.BadSeq)
		if v.BadTo > v.BadSeq {
			where = fmt.Sprintf("entries %d to %d", v.BadSeq, v.BadTo)
		}
		fmt.Fprintf(w, "audit chain BROKEN at %s: %s (%d entries read)\n", where, v.Problem, v.Entries)
		if v.Anchored && v.Checkpoint != nil && v.BadTo > 0 {
			fmt.Fprintln(w, "If the state store was restored from a backup, this is the trail lost with it: check the backup, then record the restore with lethe audit accept-restore (deploy/README.md, Backups and restore).")
		}
		return fmt.Errorf("%w: audit chain broken", errFailed)
	}
	switch cp := v.Checkpoint; {
	case cp != nil:
		fmt.Fprintf(w, "audit chain ok: %d entries; matches %d signed checkpoint(s), the newest of entry %d signed %s",
			v.Entries, cp.Checked, cp.Seq, cp.At.Format(time.RFC3339))
		if v.Entries > cp.Seq {
			fmt.Fprintf(w, " (entries %d to %d await the next checkpoint)", cp.Seq+1, v.Entries)
		}
		fmt.Fprintln(w)
	case v.Anchored:
		fmt.Fprintf(w, "audit chain ok: %d entries; no signed checkpoint written yet (lethe serve writes one every %s and after each erasure)\n", v.Entries, auditCheckpointEvery)
	default:
		fmt.Fprintf(w, "audit chain ok: %d entries (no signed checkpoint checked: set LETHE_AUDIT_KEY or --pubkey)\n", v.Entries)
	}
	return nil
}

// newAuditExportCmd is "lethe audit export": the trail and its
// checkpoints, for lethe audit verify --file elsewhere.
func newAuditExportCmd(c *cli) *cobra.Command {
	var cfg Config
	var out string
	cmd := &cobra.Command{
		Use:   "export [--out F]",
		Short: "Write the audit trail and its signed checkpoints to a file",
		Long: `Write the audit trail as JSON lines: its head, the signed checkpoints of the
anchor bucket (after a fresh one when LETHE_AUDIT_KEY is set) and every entry,
for lethe audit verify --file F --pubkey K on any machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAuditLog(ctx, cfg, nil, func(log *state.AuditLog) error {
				w := c.stdout
				if out != "" {
					f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
					if err != nil {
						return fmt.Errorf("%w: %v", errUsage, err)
					}
					defer f.Close()
					w = f
				}
				return log.Export(ctx, w)
			})
		},
	}
	fs := cmd.Flags()
	cfg.databaseFlag(fs)
	cfg.auditFlags(fs)
	cfg.exportURLFlag(fs)
	fs.StringVar(&out, "out", "", "file to write (default standard output)")
	return cmd
}

// newAuditPubkeyCmd is "lethe audit pubkey".
func newAuditPubkeyCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "pubkey",
		Short: "Print the public key of LETHE_AUDIT_KEY",
		Long: `Print the public key of LETHE_AUDIT_KEY (64 hex digits): what lethe audit
verify --pubkey needs to check the checkpoints without the private key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "audit-key"); err != nil {
				return err
			}
			key, err := dsr.ParseAuditKey(cfg.AuditKey)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			fmt.Fprintln(c.stdout, dsr.FormatPublicKey(key.Public().(ed25519.PublicKey)))
			return nil
		},
	}
	cfg.auditFlags(cmd.Flags())
	return cmd
}
