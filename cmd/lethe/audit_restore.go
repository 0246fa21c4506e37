package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// newAuditAcceptRestoreCmd is "lethe audit accept-restore": the operator's
// acceptance of a state store restored from a backup, whose audit chain
// is behind (or forked from) the checkpoints of its anchor.
func newAuditAcceptRestoreCmd(c *cli) *cobra.Command {
	var cfg Config
	var note string
	var unanchored int64
	cmd := &cobra.Command{
		Use:   "accept-restore --note TEXT",
		Short: "Record that the state store was restored from a backup, and re-anchor its audit chain",
		Long: `After a restore from a backup, the anchor bucket holds checkpoints of audit
entries the restored store no longer has: lethe audit verify fails, /readyz
reports audit_anchor, and lethe serve writes no checkpoint. This command
checks that the restored chain is whole and agrees with the anchor up to a
checkpoint, and that it ends at that checkpoint: a backup's head is
anchored (lethe backup signs it; lethe audit checkpoint before pg_dump),
so entries past the last anchored one were written since the restore, or
forged by someone who can write the state store. When there are any, the
command names their number and accepts only with --unanchored N stating
it, once you have read them (lethe audit export); --unanchored with a
number other than the actual one (0 included) is refused. If an entry is
appended while the command runs (a replica still serving), it accepts
nothing and asks to be run again. It then appends an audit entry (audit.restore_accepted) naming the
restore, your note and the checkpoints of the lost chain, moves those
checkpoints aside in the bucket (kept under audit/superseded/), and signs a
checkpoint of the new head. It needs LETHE_AUDIT_KEY. The note is kept in
the trail: name the backup and why it was restored, no personal data.
Exit 1 when there is nothing to accept or the chain was rewritten rather
than restored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "audit-key", "note"); err != nil {
				return err
			}
			var res *state.RestoreAcceptance
			err := withAuditLog(cmd.Context(), cfg, nil, func(log *state.AuditLog) (err error) {
				res, err = log.AcceptRestore(cmd.Context(), "cli", note, unanchored)
				return err
			})
			if err != nil {
				return cliError(err)
			}
			newest := res.Superseded[len(res.Superseded)-1]
			agrees := fmt.Sprintf("the chain agrees with the anchor up to entry %d", res.AgreesTo)
			if res.AgreesTo == 0 {
				agrees = "no checkpoint of the anchor matches the restored chain"
			}
			fmt.Fprintf(c.stdout, "restore accepted as audit entry %d: %s; the anchor held %d entries (checkpoint signed %s), so entries %d to %d of the anchored chain are lost with the restore\n",
				res.Entry.Seq, agrees, res.AnchorHeld, newest.At.UTC().Format(time.RFC3339), res.AgreesTo+1, res.AnchorHeld)
			if res.Unanchored > 0 {
				fmt.Fprintf(c.stdout, "entries %d to %d, which no checkpoint vouched for, are accepted as you stated (--unanchored %d)\n", res.AgreesTo+1, res.ChainHead, res.Unanchored)
			}
			fmt.Fprintf(c.stdout, "%d checkpoint(s) of the lost chain moved to %s%s/; new checkpoint of entry %d signed\n",
				len(res.Superseded), anchor.SupersededPrefix, res.MovedTo, res.Checkpoint.Seq)
			return nil
		},
	}
	fs := cmd.Flags()
	cfg.databaseFlag(fs)
	cfg.auditFlags(fs)
	cfg.exportURLFlag(fs)
	fs.Int64Var(&unanchored, "unanchored", -1, "the number of entries past the last anchored one, once read (kept in the audit trail)")
	fs.StringVar(&note, "note", "", "which backup was restored and why (kept in the audit trail; no personal data)")
	return cmd
}

// newAuditCheckpointCmd is "lethe audit checkpoint": a signed checkpoint
// of the chain's head, written before a backup the state database takes
// (pg_dump), so that the restored chain ends at an anchored entry.
func newAuditCheckpointCmd(c *cli) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign the audit chain's head into the anchor bucket, before a pg_dump backup",
		Long: `Sign a checkpoint of the audit chain's current head and store it in the
anchor bucket. Run it right before pg_dump: a store restored from the dump
then ends at an anchored entry, and lethe audit accept-restore needs no
--unanchored (entries appended between the two commands are counted as
unanchored). It needs LETHE_AUDIT_KEY, and refuses while the chain has
diverged from the anchor. lethe backup (SQLite) does this by itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "audit-key"); err != nil {
				return err
			}
			var cp *dsr.Checkpoint
			err := withAuditLog(cmd.Context(), cfg, nil, func(log *state.AuditLog) (err error) {
				cp, err = log.Checkpoint(cmd.Context())
				return err
			})
			if err != nil {
				return cliError(err)
			}
			if cp == nil {
				fmt.Fprintln(c.stdout, "the audit chain is empty: nothing to checkpoint")
				return nil
			}
			fmt.Fprintf(c.stdout, "checkpoint of audit entry %d signed into the anchor\n", cp.Seq)
			return nil
		},
	}
	fs := cmd.Flags()
	cfg.databaseFlag(fs)
	cfg.auditFlags(fs)
	cfg.exportURLFlag(fs)
	return cmd
}
