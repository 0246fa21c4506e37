package state

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// Anchor is where the audit chain's signed checkpoints are kept, outside
// the state store, with the keys that sign and check them. A writer of the
// state store cannot rewrite the trail unseen: Verify compares the chain
// with every checkpoint (see dsr.VerifyAnchoredChain).
type Anchor struct {
	Store dsr.CheckpointStore
	// Key signs checkpoints (LETHE_AUDIT_KEY); nil where only checking.
	Key ed25519.PrivateKey
	// PublicKey checks them; nil means Key's public half.
	PublicKey ed25519.PublicKey
	// Previous are the public keys of the audit keys Key replaced
	// (LETHE_AUDIT_KEY_PREVIOUS): checkpoints they signed still verify.
	Previous []ed25519.PublicKey

	mu   sync.Mutex
	last int64 // the newest seq this process checkpointed
	// known is the last checkpoint this process signed or found the chain
	// to agree with: every check reads the entry it names (one row) and
	// finds it still there with its signed hash, so that a writer of the
	// state store who cuts the chain back under a running process and
	// appends entries of his own is seen at the next checkpoint, rather
	// than signed.
	known atomic.Pointer[dsr.Checkpoint]
	// diverged is the outcome of the last check, and checkedAt its time
	// (unix nanoseconds), for lethe_audit_anchor_diverged; refreshing
	// guards the one refresh a scrape starts (see AnchorDiverged).
	diverged   atomic.Bool
	checkedAt  atomic.Int64
	refreshing atomic.Bool
	// refreshEvery replaces anchorRefreshEvery when set (tests).
	refreshEvery time.Duration
	// divergedFrom is the anchor's newest checkpoint as the last listing
	// found it, when the chain did not agree with it: until it is
	// anchorRefreshEvery old, a check compares the chain with it instead
	// of listing the anchor again (a checkpoint at each request end while
	// diverged). AcceptRestore in this process clears it.
	divergedFrom atomic.Pointer[listedCheckpoint]
}

// listedCheckpoint is a checkpoint and when the anchor was listed for it.
type listedCheckpoint struct {
	c  *dsr.Checkpoint
	at time.Time
}

func (a *Anchor) every() time.Duration { return cmp.Or(a.refreshEvery, anchorRefreshEvery) }

func (a *Anchor) publicKey() ed25519.PublicKey {
	if a.PublicKey != nil || a.Key == nil {
		return a.PublicKey
	}
	return a.Key.Public().(ed25519.PublicKey)
}

// Checkpoint signs the chain's current head and stores it in the anchor,
// unless this process already checkpointed that head or the chain is
// empty; it returns the checkpoint written, or nil. Errors: EUNPROCESSABLE
// without an anchor or a key; the store's and the anchor's.
func (l *AuditLog) Checkpoint(ctx context.Context) (*dsr.Checkpoint, error) {
	return l.checkpoint(ctx, false)
}

// checkpoint is Checkpoint; force writes the head even if this process
// checkpointed it before (the object may be gone since).
func (l *AuditLog) checkpoint(ctx context.Context, force bool) (*dsr.Checkpoint, error) {
	a := l.Anchor
	if a == nil || a.Store == nil || a.Key == nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "audit checkpoints need LETHE_AUDIT_KEY (openssl rand -hex 32)")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// The head is read by a write that changes nothing, committed
	// synchronously: a request's start appends to the chain in a commit
	// that does not wait for the disk (see ExecutionStore.Start), and a
	// checkpoint must not sign an entry that a crash of the state database
	// could still take back. The commit flushes every entry before it.
	var heads []auditHead
	if err := l.DB.Gorm.WithContext(ctx).Raw(`UPDATE lethe_audit_head SET seq = seq WHERE id = 1 RETURNING *`).Scan(&heads).Error; err != nil {
		return nil, fmt.Errorf("audit: checkpoint: read head: %w", err)
	}
	var head auditHead
	if len(heads) > 0 {
		head = heads[0]
	}
	if head.Seq == 0 || (head.Seq == a.last && !force) {
		return nil, nil
	}
	// A checkpoint of a chain that diverged from the anchor would replace
	// the signed checkpoint of the same entry, or add one that contradicts
	// the newer ones: the divergence waits for an operator instead.
	if err := l.checkAnchor(ctx, head); err != nil {
		return nil, fmt.Errorf("audit: checkpoint of entry %d: %w", head.Seq, err)
	}
	c := dsr.SignCheckpoint(a.Key, head.Seq, head.Hash, l.DB.now())
	if err := a.Store.SaveCheckpoint(ctx, c); err != nil {
		return nil, fmt.Errorf("audit: checkpoint of entry %d: %w", head.Seq, err)
	}
	a.last = head.Seq
	a.known.Store(c)
	return c, nil
}

// Keys returns the public keys that check the anchor's checkpoints, the
// current first, then the previous ones; nil without a key.
func (a *Anchor) Keys() []ed25519.PublicKey {
	if a == nil || a.publicKey() == nil {
		return nil
	}
	return append([]ed25519.PublicKey{a.publicKey()}, a.Previous...)
}

// previousKeys returns the anchor's previous public keys, none without one.
func (l *AuditLog) previousKeys() []ed25519.PublicKey {
	if l.Anchor == nil {
		return nil
	}
	return l.Anchor.Previous
}

// Resign signs again with the current key every checkpoint of the anchor
// signed by a previous key, once the whole chain has been verified
// against all of them, so that the previous keys are no longer needed to
// verify the trail. The entries are not touched. It returns how many
// checkpoints it re-signed. Errors: EUNPROCESSABLE without a key, or
// when the chain does not verify (nothing is re-signed then).
func (l *AuditLog) Resign(ctx context.Context) (int, error) {
	a := l.Anchor
	if a == nil || a.Store == nil || a.Key == nil {
		return 0, dsr.Errorf(dsr.EUNPROCESSABLE, "re-signing checkpoints needs LETHE_AUDIT_KEY (openssl rand -hex 32)")
	}
	v, err := l.Verify(ctx)
	if err != nil {
		return 0, err
	}
	if !v.OK {
		return 0, dsr.Errorf(dsr.EUNPROCESSABLE, "the audit trail does not verify (entry %d: %s): no checkpoint re-signed", v.BadSeq, v.Problem)
	}
	cps, err := a.Store.Checkpoints(ctx)
	if err != nil {
		return 0, fmt.Errorf("audit: read the checkpoints: %w", err)
	}
	n := 0
	for _, c := range cps {
		if c.SignedBy(a.Keys()) <= 0 {
			continue // the current key's, or (caught by Verify) no one's
		}
		if err := a.Store.SaveCheckpoint(ctx, dsr.SignCheckpoint(a.Key, c.Seq, c.Hash, c.At)); err != nil {
			return n, fmt.Errorf("audit: re-sign the checkpoint of entry %d: %w", c.Seq, err)
		}
		n++
	}
	return n, nil
}

// checkpoints returns the anchor's checkpoints and the key that checks
// them; none without an anchor.
func (l *AuditLog) checkpoints(ctx context.Context) ([]*dsr.Checkpoint, ed25519.PublicKey, error) {
	if l.Anchor == nil || l.Anchor.Store == nil {
		return nil, nil, nil
	}
	pub := l.Anchor.publicKey()
	if pub == nil {
		return nil, nil, dsr.Errorf(dsr.EUNPROCESSABLE, "audit anchor: no key to check its checkpoints; set LETHE_AUDIT_KEY")
	}
	cps, err := l.Anchor.Store.Checkpoints(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: read the checkpoints: %w", err)
	}
	return cps, pub, nil
}

// readChain runs fn in one read-only transaction with the chain's head
// and an iterator over its entries in order, so that entries appended
// meanwhile are not taken for entries added behind the head's back.
func (l *AuditLog) readChain(ctx context.Context, fn func(head auditHead, next func() (*dsr.AuditEntry, error)) error) error {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	if l.DB.Dialect != Postgres {
		opts = nil // SQLite: the one connection's transaction is the snapshot
	}
	return l.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var head auditHead
		if err := tx.Where("id = 1").Take(&head).Error; err != nil {
			return fmt.Errorf("audit: read head: %w", err)
		}
		var page []auditRow
		var after int64
		next := func() (*dsr.AuditEntry, error) {
			if len(page) == 0 {
				if err := tx.Where("seq > ?", after).Order("seq").Limit(500).Find(&page).Error; err != nil {
					return nil, fmt.Errorf("audit: read chain: %w", err)
				}
				if len(page) == 0 {
					return nil, nil
				}
			}
			r := page[0]
			page, after = page[1:], r.Seq
			return r.toDomain(), nil
		}
		return fn(head, next)
	}, opts)
}

// Export writes the whole trail to w as dsr.AuditExportFormat: its head,
// the anchor's checkpoints (after a fresh one, when this process holds the
// key and the chain agrees with them) and every entry, for lethe audit
// verify --file on another machine.
func (l *AuditLog) Export(ctx context.Context, w io.Writer) error {
	if l.Anchor != nil && l.Anchor.Key != nil {
		if _, err := l.checkpoint(ctx, true); err != nil && !chainDiverged(err) {
			return err
		}
	}
	cps, _, err := l.checkpoints(ctx)
	if err != nil {
		return err
	}
	return l.readChain(ctx, func(head auditHead, next func() (*dsr.AuditEntry, error)) error {
		ew, err := dsr.NewAuditExportWriter(w, dsr.AuditHead{Seq: head.Seq, Hash: head.Hash}, cps)
		if err != nil {
			return err
		}
		for {
			e, err := next()
			if err != nil || e == nil {
				return err
			}
			if err := ew.Entry(e); err != nil {
				return err
			}
		}
	})
}

// Checkpointer is a dsr.EndObserver that checkpoints the audit chain after
// every completed erasure, so that its certificate is anchored at once.
type Checkpointer struct {
	Audit *AuditLog
}

// RequestEnded implements dsr.EndObserver.
func (c Checkpointer) RequestEnded(ctx context.Context, r *dsr.Request) error {
	if r.Type != dsr.TypeErasure || r.Status != dsr.StatusCompleted {
		return nil
	}
	_, err := c.Audit.Checkpoint(ctx)
	return err
}

// BackupCheckpoint signs entry seq of the chain, the head of a backup just
// copied from this store (hash is the backup's head hash), and stores it in the anchor, so that the chain
// restored from the backup ends at a checkpointed entry (AcceptRestore).
// Errors: EUNPROCESSABLE without an anchor or a key; EINVALID for an
// entry the chain does not hold; *AnchorDivergedError; the stores'.
func (l *AuditLog) BackupCheckpoint(ctx context.Context, seq int64, hash string) (*dsr.Checkpoint, error) {
	a := l.Anchor
	if a == nil || a.Store == nil || a.Key == nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "a backup checkpoint needs LETHE_AUDIT_KEY (openssl rand -hex 32) and the anchor bucket")
	}
	if err := l.CheckAnchor(ctx); err != nil {
		return nil, fmt.Errorf("audit: backup checkpoint of entry %d: %w", seq, err)
	}
	var rows []auditRow
	if err := l.DB.Gorm.WithContext(ctx).Select("seq", "hash").Where("seq = ?", seq).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit: read entry %d: %w", seq, err)
	}
	if len(rows) == 0 || rows[0].Hash != hash {
		return nil, dsr.Errorf(dsr.EINVALID, "the audit chain holds no entry %d with the backup's head hash: the backup is not a copy of this store", seq)
	}
	c := dsr.SignCheckpoint(a.Key, seq, rows[0].Hash, l.DB.now())
	if err := a.Store.SaveCheckpoint(ctx, c); err != nil {
		return nil, fmt.Errorf("audit: backup checkpoint of entry %d: %w", seq, err)
	}
	return c, nil
}

// AuditHead returns the seq and hash of the audit chain's last entry
// (0 and "" for an empty chain).
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var heads []auditHead
	if err := db.Gorm.WithContext(ctx).Where("id = 1").Limit(1).Find(&heads).Error; err != nil {
		return 0, "", fmt.Errorf("audit: read head: %w", err)
	}
	if len(heads) == 0 {
		return 0, "", nil
	}
	return heads[0].Seq, heads[0].Hash, nil
}
