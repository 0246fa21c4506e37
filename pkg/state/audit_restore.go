package state

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// A state store restored from a backup holds the audit chain as it stood
// at the backup, while the anchor outside it keeps the checkpoints signed
// since: the anchor is ahead of the chain, or, once the restored store has
// appended entries of its own, it holds checkpoints the chain no longer
// matches. Lethe then writes no checkpoint (one would replace a signed
// checkpoint of the lost chain by one of the restored chain, silently),
// reports the divergence in lethe_audit_anchor_diverged and its log (not
// on /readyz: the application it serves beside stays in service), and waits for an
// operator to accept the restore (AcceptRestore).

// AnchorDivergedError says the anchor's newest checkpoint is one the chain
// does not reach (Ahead) or no longer matches.
type AnchorDivergedError struct {
	Head   int64           // the chain's last entry
	Newest *dsr.Checkpoint // the anchor's newest checkpoint
	Ahead  bool
}

func (e *AnchorDivergedError) Error() string {
	signed := e.Newest.At.UTC().Format(time.RFC3339)
	if e.Ahead {
		return fmt.Sprintf("audit anchor is ahead of the state store: the chain ends at entry %d, but the checkpoint signed %s holds %d entries; "+
			"the state store was restored from a backup (or entries were removed): no checkpoint is written until an operator runs lethe audit accept-restore",
			e.Head, signed, e.Newest.Seq)
	}
	return fmt.Sprintf("audit chain has forked from its anchor: entry %d no longer has the hash signed %s (the chain now ends at entry %d); "+
		"the state store was restored from a backup (or rewritten) and has moved on since: no checkpoint is written until an operator runs lethe audit accept-restore",
		e.Newest.Seq, signed, e.Head)
}

// CheckAnchor compares the chain with the anchor: nil when there is no
// anchor, no checkpoint, or the chain still holds the checkpointed entry
// with its signed hash. Once a check agrees, the next ones read the one
// entry of the checkpoint last signed or checked by this process (see
// Anchor.known); the anchor is listed again only when that entry is gone
// or changed, in case an operator accepted a restore meanwhile. Errors:
// *AnchorDivergedError; the stores'.
func (l *AuditLog) CheckAnchor(ctx context.Context) error {
	if l.Anchor == nil || l.Anchor.Store == nil {
		return nil
	}
	var head auditHead
	if err := l.DB.Gorm.WithContext(ctx).Where("id = 1").Take(&head).Error; err != nil {
		return fmt.Errorf("audit: read head: %w", err)
	}
	return l.checkAnchor(ctx, head)
}

func (l *AuditLog) checkAnchor(ctx context.Context, head auditHead) error {
	a := l.Anchor
	if k := a.known.Load(); k != nil {
		err := l.checkKnown(ctx, head, k)
		if !chainDiverged(err) {
			if err == nil {
				a.noteCheck(false)
			}
			return err
		}
	}
	if d := a.divergedFrom.Load(); d != nil && time.Since(d.at) < a.every() {
		if err := l.checkKnown(ctx, head, d.c); err != nil {
			if chainDiverged(err) {
				a.diverged.Store(true)
			}
			return err
		}
	}
	listed := time.Now()
	newest, err := a.Store.Newest(ctx)
	if err != nil {
		return err
	}
	a.divergedFrom.Store(nil)
	if newest == nil {
		a.noteCheck(false)
		return nil
	}
	if err := l.checkKnown(ctx, head, newest); err != nil {
		if chainDiverged(err) {
			a.divergedFrom.Store(&listedCheckpoint{c: newest, at: listed})
			a.noteCheck(true)
		}
		return err
	}
	a.known.Store(newest)
	a.noteCheck(false)
	return nil
}

// checkKnown checks that the chain whose head is head still holds entry
// c.Seq with c.Hash: a read of one row at most. Errors:
// *AnchorDivergedError; the store's.
func (l *AuditLog) checkKnown(ctx context.Context, head auditHead, c *dsr.Checkpoint) error {
	if c.Seq > head.Seq {
		return &AnchorDivergedError{Head: head.Seq, Newest: c, Ahead: true}
	}
	hash := head.Hash
	if c.Seq < head.Seq {
		var rows []auditRow
		if err := l.DB.Gorm.WithContext(ctx).Select("hash").Where("seq = ?", c.Seq).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("audit: read entry %d: %w", c.Seq, err)
		}
		hash = ""
		if len(rows) > 0 {
			hash = rows[0].Hash
		}
	}
	if hash != c.Hash {
		return &AnchorDivergedError{Head: head.Seq, Newest: c}
	}
	return nil
}

func (a *Anchor) noteCheck(diverged bool) {
	a.diverged.Store(diverged)
	a.checkedAt.Store(time.Now().UnixNano())
}

// anchorRefreshEvery is how often, at most, a scrape of a process whose
// last check found the chain diverged starts a new comparison with the
// anchor's newest checkpoint.
const anchorRefreshEvery = time.Minute

// AnchorDiverged reports whether the chain has diverged from the anchor
// (see CheckAnchor), for lethe_audit_anchor_diverged, without listing the
// anchor: it reads the entry of the checkpoint this process last signed
// or checked (one row), or, when there is none or it no longer agrees,
// returns the outcome of the last check (made now if there was none) and,
// at most every minute, starts a new one in the background (an operator may have accepted the restore
// meanwhile), whose outcome the next scrape reports. Errors: the state
// store's.
func (l *AuditLog) AnchorDiverged(ctx context.Context) (bool, error) {
	a := l.Anchor
	if a == nil || a.Store == nil {
		return false, nil
	}
	var head auditHead
	if err := l.DB.Gorm.WithContext(ctx).Where("id = 1").Take(&head).Error; err != nil {
		return false, fmt.Errorf("audit: read head: %w", err)
	}
	if k := a.known.Load(); k != nil {
		err := l.checkKnown(ctx, head, k)
		if err == nil {
			a.noteCheck(false)
			return false, nil
		}
		if !chainDiverged(err) {
			return false, err
		}
		a.diverged.Store(true)
	}
	if a.checkedAt.Load() == 0 { // the process's first look
		if err := l.checkAnchor(ctx, head); err != nil && !chainDiverged(err) {
			// The next scrapes look again in the background.
			a.checkedAt.CompareAndSwap(0, time.Now().UnixNano())
			return false, err
		}
		return a.diverged.Load(), nil
	}
	if time.Since(time.Unix(0, a.checkedAt.Load())) >= a.every() && a.refreshing.CompareAndSwap(false, true) {
		go func() {
			defer a.refreshing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 2*anchorRefreshEvery)
			defer cancel()
			_ = l.CheckAnchor(ctx) // its outcome is kept by noteCheck; a failure is retried
		}()
	}
	return a.diverged.Load(), nil
}

// ActionRestoreAccepted is the audit action of an accepted restore.
const ActionRestoreAccepted = "audit.restore_accepted"

// RestoreAcceptance is what AcceptRestore recorded.
type RestoreAcceptance struct {
	// AgreesTo is the last entry the chain still shares with the anchor:
	// the newest checkpoint it matches (0 when none).
	AgreesTo int64 `json:"agrees_to"`
	// AnchorHeld is the number of entries the superseded chain had when
	// it was last checkpointed; ChainHead, the chain's end before the
	// acceptance entry was appended.
	AnchorHeld int64 `json:"anchor_held"`
	ChainHead  int64 `json:"chain_head"`
	// Unanchored is the number of entries of the chain past AgreesTo, which
	// no checkpoint vouches for: entries written since the restore, or
	// forged by a writer of the state store. The operator stated it.
	Unanchored int64 `json:"unanchored"`
	// Superseded are the checkpoints moved aside, in seq order.
	Superseded []*dsr.Checkpoint `json:"superseded"`
	// MovedTo is the anchor folder they were moved to.
	MovedTo string `json:"moved_to"`
	Note    string `json:"note,omitempty"`
	// Entry is the audit entry recording the acceptance; Checkpoint, the
	// fresh checkpoint that anchors it.
	Entry      *dsr.AuditEntry `json:"-"`
	Checkpoint *dsr.Checkpoint `json:"-"`
}

// AcceptRestore records that the state store was restored from a backup:
// it checks that the chain is whole and shares a prefix with the anchor
// (every checkpoint up to the newest one it matches), appends an entry
// naming the restore and the checkpoints of the lost chain, moves those
// checkpoints aside in the anchor (kept under audit/superseded/), and
// signs a checkpoint of the new head. note is the operator's words
// (which backup, why); it must not hold personal data. Errors:
// EUNPROCESSABLE without the audit key; ECONFLICT when there is nothing
// to accept or the chain is broken, or it disagrees with a checkpoint
// before one it matches (a rewrite, not a restore); the stores'.
//
// A restore cannot be told from a writer of the state store who cut the
// chain back and appended entries of his own, except by the anchor: a
// backup's head is anchored (lethe backup, lethe audit checkpoint before
// pg_dump), so a restored chain ends at a checkpointed entry. When the
// chain holds entries past the newest checkpoint it matches, unanchored
// must state their number (the operator has looked at them); a negative
// unanchored states nothing, and a stated number must be the actual one
// (0 when the chain ends at a checkpoint). ECONFLICT otherwise, naming
// the number. The acceptance is appended only if the chain still ends
// where it was read: ECONFLICT, run again, when an entry was appended
// meanwhile (it would be anchored without being counted).
func (l *AuditLog) AcceptRestore(ctx context.Context, actor, note string, unanchored int64) (*RestoreAcceptance, error) {
	a := l.Anchor
	if a == nil || a.Store == nil || a.Key == nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "accepting a restore signs a checkpoint: it needs LETHE_AUDIT_KEY and the anchor bucket (LETHE_AUDIT_ANCHOR_URL or LETHE_EXPORT_URL)")
	}
	cps, _, err := l.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	// During a rotation of the audit key, the older checkpoints carry the
	// signature of a previous key (LETHE_AUDIT_KEY_PREVIOUS).
	for _, c := range cps {
		if c.SignedBy(a.Keys()) < 0 {
			return nil, dsr.Errorf(dsr.ECONFLICT, "the checkpoint of entry %d has no valid signature of the audit key or of a previous one (LETHE_AUDIT_KEY_PREVIOUS): the anchor holds a checkpoint Lethe did not write; nothing accepted", c.Seq)
		}
	}
	slices.SortStableFunc(cps, func(x, y *dsr.Checkpoint) int { return cmp.Compare(x.Seq, y.Seq) })
	res := &RestoreAcceptance{Note: note}
	err = l.readChain(ctx, func(head auditHead, next func() (*dsr.AuditEntry, error)) error {
		res.ChainHead = head.Seq
		i, mismatch := 0, int64(0)
		walk := func() (*dsr.AuditEntry, error) {
			e, err := next()
			if e == nil || err != nil {
				return e, err
			}
			for ; i < len(cps) && cps[i].Seq <= e.Seq; i++ {
				switch c := cps[i]; {
				case c.Seq < e.Seq: // a gap; VerifyChain reports it
				case c.Hash == e.Hash && mismatch == 0:
					res.AgreesTo = c.Seq
				case c.Hash == e.Hash:
					return nil, dsr.Errorf(dsr.ECONFLICT, "entry %d differs from its checkpoint but entry %d matches its own: the chain was rewritten, not restored; nothing accepted", mismatch, c.Seq)
				case mismatch == 0:
					mismatch = c.Seq
				}
			}
			return e, nil
		}
		v, err := dsr.VerifyChain(walk, head.Seq, head.Hash)
		if err != nil {
			return err
		}
		if !v.OK {
			return dsr.Errorf(dsr.ECONFLICT, "the audit chain is broken at entry %d (%s): a restore is accepted only for a whole chain; nothing accepted", v.BadSeq, v.Problem)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cps {
		if c.Seq > res.AgreesTo {
			res.Superseded = append(res.Superseded, c)
		}
	}
	if len(res.Superseded) == 0 {
		return nil, dsr.Errorf(dsr.ECONFLICT, "nothing to accept: the audit chain matches every checkpoint of the anchor")
	}
	res.Unanchored = res.ChainHead - res.AgreesTo
	if res.Unanchored == 0 && unanchored > 0 {
		return nil, dsr.Errorf(dsr.ECONFLICT, "the audit chain ends at the last anchored entry (%d): no entry is unanchored, not %d as stated; "+
			"run it again without --unanchored (someone may have removed entries since you read them); nothing accepted", res.AgreesTo, unanchored)
	}
	if res.Unanchored > 0 && unanchored != res.Unanchored {
		return nil, dsr.Errorf(dsr.ECONFLICT, "the audit chain holds %d entries past the last anchored one (entry %d): no checkpoint vouches for entries %d to %d, "+
			"which were written since the restore or forged by a writer of the state store; read them (lethe audit export), then state their number with --unanchored %d; nothing accepted",
			res.Unanchored, res.AgreesTo, res.AgreesTo+1, res.ChainHead, res.Unanchored)
	}
	res.AnchorHeld = res.Superseded[len(res.Superseded)-1].Seq
	now := l.DB.now()
	res.MovedTo = "restore-" + now.UTC().Format("20060102T150405Z")
	if l.afterRestoreRead != nil {
		l.afterRestoreRead()
	}
	// The acceptance is appended only to the chain that was read: an entry
	// appended meanwhile (by a running replica) would be anchored by the
	// new checkpoint without having been counted or stated.
	err = l.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var head auditHead
		if err := l.DB.lock(tx).Where("id = 1").Take(&head).Error; err != nil {
			return fmt.Errorf("audit: read head: %w", err)
		}
		if head.Seq != res.ChainHead {
			return dsr.Errorf(dsr.ECONFLICT, "the audit chain moved on while it was read (it ended at entry %d, now at %d): "+
				"run lethe audit accept-restore again (with --unanchored, read the new entries first); nothing accepted", res.ChainHead, head.Seq)
		}
		var err error
		res.Entry, err = l.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: ActionRestoreAccepted, Details: res})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := a.Store.Supersede(ctx, res.MovedTo, res.Superseded); err != nil {
		return nil, fmt.Errorf("audit: accept restore (recorded as entry %d; run it again once the anchor allows the move): %w", res.Entry.Seq, err)
	}
	a.divergedFrom.Store(nil) // the anchor's newest checkpoint was just moved aside
	if res.Checkpoint, err = l.checkpoint(ctx, true); err != nil {
		return nil, err
	}
	// The leader's last verification found the chain diverged; verified
	// again now, lethe_audit_verified says so at the next scrape instead
	// of after LETHE_AUDIT_VERIFY_EVERY.
	if _, err := l.VerifyAndRecord(ctx); err != nil {
		return nil, fmt.Errorf("audit: accept restore (recorded as entry %d, checkpoint signed; the next verification records it): %w", res.Entry.Seq, err)
	}
	return res, nil
}

// chainDiverged reports whether err says the anchor and the chain diverge.
func chainDiverged(err error) bool {
	var d *AnchorDivergedError
	return errors.As(err, &d)
}
