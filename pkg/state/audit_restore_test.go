package state_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// restoredLog is the audit log of a process started on a restored store:
// the anchor of store, and no memory of the checks of the process before.
func restoredLog(t *testing.T, b *bundle, store *anchor.Store) *state.AuditLog {
	t.Helper()
	key, err := dsr.ParseAuditKey(auditSeed)
	if err != nil {
		t.Fatal(err)
	}
	b.audit = &state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: store, Key: key}}
	return b.audit
}

// cutBack leaves the chain ending at entry seq, as a restore from a backup
// taken there does (or a writer of the state store who cut it back).
func cutBack(t *testing.T, b *bundle, seq int64) {
	t.Helper()
	b.exec(t, "DELETE FROM lethe_audit WHERE seq > ?", seq)
	b.exec(t, "UPDATE lethe_audit_head SET seq = ?, hash = (SELECT hash FROM lethe_audit WHERE seq = ?), prev_hash = (SELECT prev_hash FROM lethe_audit WHERE seq = ?) WHERE id = 1", seq, seq, seq)
}

func seqs(t *testing.T, store *anchor.Store) []int64 {
	t.Helper()
	cps, err := store.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, c := range cps {
		out = append(out, c.Seq)
	}
	return out
}

// TestAcceptRestoreOfAForkedChain: a store restored to entry 5 of a chain
// checkpointed at 2, 6 and 10 is behind its anchor; once it has appended
// past entry 10 it has forked from it. Either way CheckAnchor says so,
// Checkpoint writes nothing, Export still works. AcceptRestore records
// the restore (the chains agree up to 2; 6 and 10 are given up and kept
// aside), after which the chain verifies against the anchor and a second
// acceptance finds nothing to accept.
func TestAcceptRestoreOfAForkedChain(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		cutBack(t, b, 5)

		log := restoredLog(t, b, store)
		var d *state.AnchorDivergedError
		if err := log.CheckAnchor(ctx); !errors.As(err, &d) || !d.Ahead || d.Head != 5 || d.Newest.Seq != 10 {
			t.Fatalf("restored to entry 5: CheckAnchor = %v; want the anchor ahead (10)", err)
		}
		appendN(t, b, 8)
		err := log.CheckAnchor(ctx)
		if !errors.As(err, &d) || d.Ahead || d.Head != 13 || !strings.Contains(err.Error(), "forked") {
			t.Fatalf("appended past the newest checkpoint: CheckAnchor = %v; want forked at entry 10", err)
		}
		if c, err := log.Checkpoint(ctx); c != nil || !errors.As(err, &d) {
			t.Errorf("Checkpoint on a forked chain = %+v, %v; want nothing written, the divergence", c, err)
		}
		if got := seqs(t, store); len(got) != 3 || got[2] != 10 {
			t.Errorf("checkpoints %v; want 2, 6, 10 untouched", got)
		}
		if d, err := log.AnchorDiverged(ctx); !d || err != nil {
			t.Errorf("AnchorDiverged = %v, %v; want true", d, err)
		}
		var export bytes.Buffer
		if err := log.Export(ctx, &export); err != nil || export.Len() == 0 {
			t.Errorf("Export of a forked chain: %v", err)
		}

		if c, err := log.VerifyAndRecord(ctx); err != nil || c.OK {
			t.Fatalf("the leader's verification of the forked chain = %+v, %v; want not OK", c, err)
		}
		res, err := log.AcceptRestore(ctx, "cli", "restored last night's backup", 11)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := log.LastCheck(ctx); err != nil || c == nil || !c.OK || c.Entries != 14 {
			t.Errorf("recorded verification after the acceptance = %+v, %v; want OK over 14 entries", c, err)
		}
		if res.AgreesTo != 2 || res.AnchorHeld != 10 || res.ChainHead != 13 || len(res.Superseded) != 2 || res.Entry.Seq != 14 || res.Checkpoint.Seq != 14 {
			t.Errorf("acceptance %+v (entry %d, checkpoint %d); want agrees to 2, held 10, head 13, 6 and 10 superseded, entry and checkpoint 14",
				res, res.Entry.Seq, res.Checkpoint.Seq)
		}
		if got := seqs(t, store); len(got) != 2 || got[0] != 2 || got[1] != 14 {
			t.Errorf("checkpoints after the acceptance %v; want 2 and 14", got)
		}
		for _, seq := range []string{"00000000000000000006.json", "00000000000000000010.json"} {
			if ok, err := store.Bucket.Exists(ctx, anchor.SupersededPrefix+res.MovedTo+"/"+seq); !ok || err != nil {
				t.Errorf("superseded checkpoint %s not kept: %v", seq, err)
			}
		}
		entries, err := log.List(ctx, dsr.AuditFilter{AfterSeq: 13})
		if err != nil || len(entries) != 1 || entries[0].Action != state.ActionRestoreAccepted ||
			!strings.Contains(string(entries[0].Details), "restored last night's backup") || !strings.Contains(string(entries[0].Details), `"anchor_held":10`) {
			t.Errorf("acceptance entry %+v, %v", entries, err)
		}
		if v, err := log.Verify(ctx); err != nil || !v.OK || v.Checkpoint == nil || v.Checkpoint.Seq != 14 {
			t.Errorf("verification after the acceptance: %+v, %v", v, err)
		}
		if err := log.CheckAnchor(ctx); err != nil {
			t.Errorf("CheckAnchor after the acceptance: %v", err)
		}
		if d, err := log.AnchorDiverged(ctx); d || err != nil {
			t.Errorf("AnchorDiverged after the acceptance = %v, %v; want false", d, err)
		}
		_, err = restoredLog(t, b, store).AcceptRestore(ctx, "cli", "again", -1)
		wantCode(t, err, dsr.ECONFLICT)
	})
}

// TestAcceptRestoreRefuses: without the audit key; and a chain broken on
// its own (an entry changed, later hashes not recomputed), which is no
// restore: nothing is appended and no checkpoint moved.
func TestAcceptRestoreRefuses(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		_, err := (&state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: store}}).AcceptRestore(ctx, "cli", "no key", -1)
		wantCode(t, err, dsr.EUNPROCESSABLE)

		b.exec(t, `UPDATE lethe_audit SET details = '{"i":"nothing happened"}' WHERE seq = 4`)
		_, err = restoredLog(t, b, store).AcceptRestore(ctx, "cli", "a rewrite", -1)
		wantCode(t, err, dsr.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), "broken") {
			t.Errorf("AcceptRestore of a broken chain: %v; want it called broken", err)
		}
		if n := b.count(t, "lethe_audit", "action = ?", state.ActionRestoreAccepted); n != 0 {
			t.Errorf("%d acceptance entries appended; want none", n)
		}
		if got := seqs(t, store); len(got) != 3 {
			t.Errorf("checkpoints %v; want 2, 6 and 10 in place", got)
		}
	})
}

// TestAcceptRestoreDuringKeyRotation: the checkpoints of the lost chain
// were signed by the audit key that a rotation replaced, which the
// process knows as a previous key: the restore is accepted, and the new
// checkpoint carries the current key's signature.
func TestAcceptRestoreDuringKeyRotation(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b) // signed by auditSeed's key
		cutBack(t, b, 6)

		old, err := dsr.ParseAuditKey(auditSeed)
		if err != nil {
			t.Fatal(err)
		}
		key, err := dsr.ParseAuditKey(strings.Repeat("ab", 32))
		if err != nil {
			t.Fatal(err)
		}
		log := &state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: store, Key: key, Previous: []ed25519.PublicKey{old.Public().(ed25519.PublicKey)}}}
		res, err := log.AcceptRestore(ctx, "cli", "restored during the key rotation", -1)
		if err != nil {
			t.Fatalf("AcceptRestore with the checkpoints signed by the previous key: %v", err)
		}
		if res.AgreesTo != 6 || len(res.Superseded) != 1 || res.Superseded[0].Seq != 10 {
			t.Errorf("acceptance %+v; want agrees to 6, 10 superseded", res)
		}
		if !res.Checkpoint.Valid(key.Public().(ed25519.PublicKey)) {
			t.Errorf("new checkpoint %+v not signed by the current key", res.Checkpoint)
		}
		if v, err := log.Verify(ctx); err != nil || !v.OK {
			t.Errorf("verification after the acceptance: %+v, %v", v, err)
		}
	})
}

// TestAcceptRestoreOfATamperedChain: a writer of the state store cuts the
// chain back below the newest checkpoint and appends entries of his own
// (a valid chain: he recomputes the hashes). AcceptRestore cannot tell
// that from a restore, so it refuses, naming the entries no checkpoint
// vouches for, until the operator states their number, which the
// acceptance entry keeps. A store restored from a backup whose head was
// anchored needs no such statement.
func TestAcceptRestoreOfATamperedChain(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		cutBack(t, b, 7)
		appendN(t, b, 3) // the forged entries 8 to 10

		log := restoredLog(t, b, store)
		for _, n := range []int64{-1, 0, 3, 5} {
			_, err := log.AcceptRestore(ctx, "cli", "a tampered chain", n)
			wantCode(t, err, dsr.ECONFLICT)
			if err == nil || !strings.Contains(err.Error(), "4 entries past the last anchored one (entry 6)") || !strings.Contains(err.Error(), "--unanchored 4") {
				t.Errorf("AcceptRestore --unanchored %d: %v; want the 4 unanchored entries named", n, err)
			}
		}
		if n := b.count(t, "lethe_audit", "action = ?", state.ActionRestoreAccepted); n != 0 {
			t.Errorf("%d acceptance entries appended; want none", n)
		}
		if got := seqs(t, store); len(got) != 3 {
			t.Errorf("checkpoints %v; want 2, 6 and 10 in place", got)
		}
		res, err := log.AcceptRestore(ctx, "cli", "entries 7 to 10 read: ours", 4)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := log.List(ctx, dsr.AuditFilter{AfterSeq: 10})
		if err != nil || len(entries) != 1 || res.Unanchored != 4 || !strings.Contains(string(entries[0].Details), `"unanchored":4`) {
			t.Errorf("acceptance entry %+v, %v; want it to keep 4 unanchored entries", entries, err)
		}
	})
}

// TestAcceptRestoreOfAnAnchoredBackup: the backup's head was anchored
// when it was taken (BackupCheckpoint, as lethe backup does): restored,
// the chain ends at a checkpoint and is accepted with nothing to state.
func TestAcceptRestoreOfAnAnchoredBackup(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		entries, err := b.audit.List(ctx, dsr.AuditFilter{AfterSeq: 7})
		if err != nil || len(entries) == 0 || entries[0].Seq != 8 {
			t.Fatalf("entry 8: %+v, %v", entries, err)
		}
		if _, err := b.audit.BackupCheckpoint(ctx, 13, entries[0].Hash); dsr.ErrorCode(err) != dsr.EINVALID {
			t.Errorf("BackupCheckpoint past the head: %v; want EINVALID", err)
		}
		if _, err := b.audit.BackupCheckpoint(ctx, 7, entries[0].Hash); dsr.ErrorCode(err) != dsr.EINVALID {
			t.Errorf("BackupCheckpoint with another entry's hash: %v; want EINVALID", err)
		}
		c, err := b.audit.BackupCheckpoint(ctx, 8, entries[0].Hash)
		if err != nil || c.Seq != 8 {
			t.Fatalf("BackupCheckpoint(8) = %+v, %v", c, err)
		}
		cutBack(t, b, 8)

		log := restoredLog(t, b, store)
		// A number stated where there is nothing unanchored is refused.
		_, err = log.AcceptRestore(ctx, "cli", "restored the 8-entry backup", 3)
		wantCode(t, err, dsr.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), "no entry is unanchored, not 3") {
			t.Errorf("AcceptRestore --unanchored 3 of a chain ending at its checkpoint: %v; want the statement refused", err)
		}
		if n := b.count(t, "lethe_audit", "action = ?", state.ActionRestoreAccepted); n != 0 {
			t.Errorf("%d acceptance entries appended; want none", n)
		}
		res, err := log.AcceptRestore(ctx, "cli", "restored the 8-entry backup", -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.AgreesTo != 8 || res.Unanchored != 0 || len(res.Superseded) != 1 || res.Superseded[0].Seq != 10 {
			t.Errorf("acceptance %+v; want agrees to 8, nothing unanchored, 10 superseded", res)
		}
	})
}

// TestAnchorRecheckedWhileRunning: a process that signed checkpoints up to
// entry 10 keeps running while a writer of the state store cuts the chain
// back to entry 6 and appends entries of his own (their hashes
// recomputed). The process's next checkpoint is refused, the divergence
// is reported, and AcceptRestore still asks for the unanchored entries to
// be stated: the forged head was never signed.
func TestAnchorRecheckedWhileRunning(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		log := b.audit
		if d, err := log.AnchorDiverged(ctx); d || err != nil {
			t.Fatalf("AnchorDiverged before the cut = %v, %v; want false", d, err)
		}
		cutBack(t, b, 6)
		appendN(t, b, 2) // the forged entries 7 and 8

		if d, err := log.AnchorDiverged(ctx); !d || err != nil {
			t.Errorf("AnchorDiverged after the cut = %v, %v; want true", d, err)
		}
		var d *state.AnchorDivergedError
		if c, err := log.Checkpoint(ctx); c != nil || !errors.As(err, &d) {
			t.Errorf("Checkpoint of the forged head = %+v, %v; want nothing signed, the divergence", c, err)
		}
		if got := seqs(t, store); len(got) != 3 || got[2] != 10 {
			t.Errorf("checkpoints %v; want 2, 6 and 10 only", got)
		}
		_, err := log.AcceptRestore(ctx, "cli", "no statement", -1)
		wantCode(t, err, dsr.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), "--unanchored 2") {
			t.Errorf("AcceptRestore without --unanchored: %v; want the 2 unanchored entries named", err)
		}
		// Accepted with the statement, the process agrees with the anchor
		// again and checkpoints as before.
		if _, err := log.AcceptRestore(ctx, "cli", "entries 7 and 8 read", 2); err != nil {
			t.Fatal(err)
		}
		if d, err := log.AnchorDiverged(ctx); d || err != nil {
			t.Errorf("AnchorDiverged after the acceptance = %v, %v; want false", d, err)
		}
		appendN(t, b, 1)
		if c, err := log.Checkpoint(ctx); err != nil || c == nil || c.Seq != 10 {
			t.Errorf("Checkpoint after the acceptance = %+v, %v; want entry 10's", c, err)
		}
	})
}

// TestAcceptRestoreWhileAppended: an entry appended by a running replica
// between AcceptRestore's read of the chain and its append would be
// anchored by the new checkpoint without being counted: the acceptance is
// refused, nothing is appended or moved, and it succeeds when run again
// with the new number.
func TestAcceptRestoreWhileAppended(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		cutBack(t, b, 7)
		appendN(t, b, 3)

		log := restoredLog(t, b, store)
		state.SetAfterRestoreRead(log, func() { appendN(t, b, 1) })
		_, err := log.AcceptRestore(ctx, "cli", "entries 7 to 10 read", 4)
		wantCode(t, err, dsr.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), "moved on while it was read (it ended at entry 10, now at 11)") {
			t.Errorf("AcceptRestore with an entry appended meanwhile: %v; want it refused", err)
		}
		if n := b.count(t, "lethe_audit", "action = ?", state.ActionRestoreAccepted); n != 0 {
			t.Errorf("%d acceptance entries appended; want none", n)
		}
		if got := seqs(t, store); len(got) != 3 {
			t.Errorf("checkpoints %v; want 2, 6 and 10 in place", got)
		}
		state.SetAfterRestoreRead(log, nil)
		res, err := log.AcceptRestore(ctx, "cli", "entries 7 to 11 read", 5)
		if err != nil || res.Unanchored != 5 || res.Entry.Seq != 12 || res.Checkpoint.Seq != 12 {
			t.Fatalf("AcceptRestore run again = %+v, %v; want 5 unanchored, entry and checkpoint 12", res, err)
		}
	})
}

// TestAnchorDivergedAtScrape: lethe_audit_anchor_diverged does not list
// the anchor at each scrape: once the process has signed a checkpoint, a
// scrape reads that entry alone, and reports a chain cut back under it
// with the anchor's bucket unreadable. While diverged, a scrape reports
// the last check's outcome and starts a new check in the background, which
// sees the restore another process accepted.
func TestAnchorDivergedAtScrape(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		dir := t.TempDir()
		openBucket := func() *blob.Bucket {
			bucket, err := blob.OpenBucket(ctx, "file://"+dir)
			if err != nil {
				t.Fatal(err)
			}
			return bucket
		}
		key, err := dsr.ParseAuditKey(auditSeed)
		if err != nil {
			t.Fatal(err)
		}
		store := &anchor.Store{Bucket: openBucket()}
		running := &state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: store, Key: key}}
		b.audit = running
		appendN(t, b, 4)
		if c, err := running.Checkpoint(ctx); err != nil || c == nil || c.Seq != 4 {
			t.Fatalf("Checkpoint = %+v, %v", c, err)
		}
		if d, err := running.AnchorDiverged(ctx); d || err != nil {
			t.Fatalf("AnchorDiverged = %v, %v; want false", d, err)
		}

		cutBack(t, b, 2)
		appendN(t, b, 3) // the forged entries 3 to 5
		store.Bucket.Close()
		if d, err := running.AnchorDiverged(ctx); !d || err != nil {
			t.Fatalf("AnchorDiverged after the cut, the bucket closed = %v, %v; want true from the database alone", d, err)
		}
		store.Bucket = openBucket()
		t.Cleanup(func() { store.Bucket.Close() })

		other := openBucket()
		t.Cleanup(func() { other.Close() })
		accepting := &state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: &anchor.Store{Bucket: other}, Key: key}}
		if _, err := accepting.AcceptRestore(ctx, "cli", "entries 1 to 5 read", 5); err != nil {
			t.Fatal(err)
		}
		if d, err := running.AnchorDiverged(ctx); !d || err != nil {
			t.Errorf("AnchorDiverged right after the acceptance = %v, %v; want the last check's true until the next one", d, err)
		}
		state.SetAnchorRefreshEvery(running.Anchor, time.Nanosecond)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			d, err := running.AnchorDiverged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !d {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("AnchorDiverged still true 20s after the acceptance; want the background check to see it")
			}
		}
		appendN(t, b, 1)
		if c, err := running.Checkpoint(ctx); err != nil || c == nil || c.Seq != 7 {
			t.Errorf("Checkpoint after the acceptance = %+v, %v; want entry 7's", c, err)
		}
	})
}

// TestCheckpointWhileDivergedListsTheAnchorOnce: once a check has listed
// the anchor and found the chain diverged, the checkpoints of the next
// request ends compare the chain with the checkpoint it found, without
// listing the anchor again (shown by closing its bucket), until the
// listing is a refresh interval old; an acceptance in the same process
// forgets it at once.
func TestCheckpointWhileDivergedListsTheAnchorOnce(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		dir := t.TempDir()
		openBucket := func() *blob.Bucket {
			bucket, err := blob.OpenBucket(ctx, "file://"+dir)
			if err != nil {
				t.Fatal(err)
			}
			return bucket
		}
		store := &anchor.Store{Bucket: openBucket()}
		log := restoredLog(t, b, store)
		appendN(t, b, 4)
		if c, err := log.Checkpoint(ctx); err != nil || c == nil || c.Seq != 4 {
			t.Fatalf("Checkpoint = %+v, %v", c, err)
		}
		cutBack(t, b, 2)

		log = restoredLog(t, b, store) // a process started on the restored store
		appendN(t, b, 1)
		var d *state.AnchorDivergedError
		if _, err := log.Checkpoint(ctx); !errors.As(err, &d) || d.Newest.Seq != 4 {
			t.Fatalf("Checkpoint of the restored chain: %v; want the divergence from entry 4", err)
		}
		store.Bucket.Close()
		for i := 0; i < 3; i++ {
			appendN(t, b, 1)
			if c, err := log.Checkpoint(ctx); c != nil || !errors.As(err, &d) || d.Newest.Seq != 4 {
				t.Fatalf("Checkpoint %d while diverged, the bucket closed = %+v, %v; want the divergence, without listing the anchor", i, c, err)
			}
		}
		state.SetAnchorRefreshEvery(log.Anchor, time.Nanosecond)
		appendN(t, b, 1)
		if _, err := log.Checkpoint(ctx); err == nil || errors.As(err, &d) {
			t.Fatalf("Checkpoint once the listing is old, the bucket closed: %v; want the bucket's error (the anchor listed again)", err)
		}
		store.Bucket = openBucket()
		t.Cleanup(func() { store.Bucket.Close() })
		state.SetAnchorRefreshEvery(log.Anchor, time.Hour)
		if _, err := log.Checkpoint(ctx); !errors.As(err, &d) {
			t.Fatalf("Checkpoint while diverged: %v; want the divergence", err)
		}
		if res, err := log.AcceptRestore(ctx, "cli", "entries 1 to 7 read", 7); err != nil || res.Checkpoint == nil || res.Checkpoint.Seq != 8 {
			t.Fatalf("AcceptRestore = %+v, %v; want entry 8 checkpointed", res, err)
		}
		appendN(t, b, 1)
		if c, err := log.Checkpoint(ctx); err != nil || c == nil || c.Seq != 9 {
			t.Errorf("Checkpoint after the acceptance = %+v, %v; want entry 9's", c, err)
		}
	})
}
