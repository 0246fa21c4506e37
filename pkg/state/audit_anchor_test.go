package state_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // the anchor is a folder on disk here
	"gorm.io/gorm/logger"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// auditSeed is LETHE_AUDIT_KEY for these tests.
const auditSeed = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// anchored gives b's audit log an anchor in a folder of its own, appends
// entries and checkpoints the chain after entries 2, 6 and 10 of 12.
func anchored(t *testing.T, b *bundle) *anchor.Store {
	t.Helper()
	ctx := context.Background()
	bucket, err := blob.OpenBucket(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	key, err := dsr.ParseAuditKey(auditSeed)
	if err != nil {
		t.Fatal(err)
	}
	store := &anchor.Store{Bucket: bucket}
	b.audit.Anchor = &state.Anchor{Store: store, Key: key}
	for _, n := range []int{2, 4, 4, 2} {
		appendN(t, b, n)
		if _, err := b.audit.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The last Checkpoint wrote entry 12's: drop it, as if the attack came
	// before the next regular checkpoint.
	if err := bucket.Delete(ctx, anchor.Prefix+"00000000000000000012.json"); err != nil {
		t.Fatal(err)
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil || len(cps) != 3 || cps[0].Seq != 2 || cps[2].Seq != 10 {
		t.Fatalf("checkpoints %+v, %v; want entries 2, 6 and 10", cps, err)
	}
	return store
}

// rewrite changes entry seq's details as a writer of the state store
// would, and recomputes every later hash and the head, so that the chain
// checks out on its own.
func rewrite(t *testing.T, b *bundle, seq int64) {
	t.Helper()
	all, err := b.audit.List(context.Background(), dsr.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, e := range all {
		if e.Seq == seq {
			e.Details = []byte(`{"i":"nothing happened"}`)
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		b.exec(t, "UPDATE lethe_audit SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?", string(e.Details), e.PrevHash, e.Hash, e.Seq)
		prev = e.Hash
	}
	b.exec(t, "UPDATE lethe_audit_head SET hash = ? WHERE id = 1", prev)
}

func wantBroken(t *testing.T, v *dsr.AuditVerification, from, to int64, words string) {
	t.Helper()
	if v.OK || v.BadSeq != from || v.BadTo != to || !strings.Contains(v.Problem, words) {
		t.Errorf("verification = %+v; want entries %d to %d found %s", v, from, to, words)
	}
}

// TestAuditCheckpointsCatchATruncatedTail: removing the last entries and
// moving the head back passes the chain's own check, not the checkpoints.
func TestAuditCheckpointsCatchATruncatedTail(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		anchored(t, b)
		if v, err := b.audit.Verify(ctx); err != nil || !v.OK || v.Checkpoint == nil || v.Checkpoint.Seq != 10 || v.Checkpoint.Checked != 3 {
			t.Fatalf("untouched chain: %+v, %v", v, err)
		}
		b.exec(t, "DELETE FROM lethe_audit WHERE seq > 8")
		b.exec(t, "UPDATE lethe_audit_head SET seq = 8, hash = (SELECT hash FROM lethe_audit WHERE seq = 8) WHERE id = 1")
		plain := &state.AuditLog{DB: b.db}
		if v, err := plain.Verify(ctx); err != nil || !v.OK {
			t.Fatalf("the chain alone should not see the truncation (the attack this guards against): %+v, %v", v, err)
		}
		v, err := b.audit.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, v, 9, 10, "missing")
	})
}

// TestAuditCheckpointsCatchARecomputedChain: rewriting entry 4 and
// recomputing every later hash and the head passes the chain's own check;
// the checkpoints name entries 3 to 6 (after the checkpoint of 2 that
// still matches, up to that of 6 that no longer does).
func TestAuditCheckpointsCatchARecomputedChain(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		anchored(t, b)
		rewrite(t, b, 4)
		if v, err := (&state.AuditLog{DB: b.db}).Verify(ctx); err != nil || !v.OK {
			t.Fatalf("the chain alone should not see the rewrite: %+v, %v", v, err)
		}
		v, err := b.audit.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, v, 3, 6, "changed")
	})
}

// TestAuditCheckpointForged: a checkpoint signed with another key (someone
// wrote to the anchor) fails the verification.
func TestAuditCheckpointForged(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		_, other, _ := ed25519.GenerateKey(nil)
		var head struct {
			Seq  int64
			Hash string
		}
		if err := b.db.Gorm.Raw("SELECT seq, hash FROM lethe_audit_head WHERE id = 1").Scan(&head).Error; err != nil {
			t.Fatal(err)
		}
		if err := store.SaveCheckpoint(ctx, dsr.SignCheckpoint(other, head.Seq, head.Hash, t0)); err != nil {
			t.Fatal(err)
		}
		v, err := b.audit.Verify(ctx)
		if err != nil || v.OK || v.BadSeq != head.Seq || !strings.Contains(v.Problem, "signature") {
			t.Errorf("verification with a forged checkpoint = %+v, %v", v, err)
		}
	})
}

// TestAuditExportVerifiedElsewhere: lethe audit export's file checks out
// with the public key alone, and a truncated or recomputed copy does not.
func TestAuditExportVerifiedElsewhere(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		anchored(t, b)
		key, _ := dsr.ParseAuditKey(auditSeed)
		pub, err := dsr.ParsePublicKey(dsr.FormatPublicKey(key.Public().(ed25519.PublicKey)))
		if err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		if err := b.audit.Export(ctx, &file); err != nil {
			t.Fatal(err)
		}
		v, err := dsr.VerifyAuditExport(bytes.NewReader(file.Bytes()), pub)
		if err != nil || !v.OK || v.Entries != 12 || v.Checkpoint == nil || v.Checkpoint.Seq != 12 {
			t.Fatalf("the export (with the checkpoint it wrote of entry 12): %+v, %v", v, err)
		}
		lines := strings.SplitAfter(strings.TrimSuffix(file.String(), "\n"), "\n")
		truncated := strings.Join(lines[:len(lines)-3], "")
		truncated = strings.Replace(truncated, `"head":{"seq":12`, `"head":{"seq":9`, 1)
		// The head line still names entry 12's hash: fix it as an attacker would.
		if v, err := dsr.VerifyAuditExport(strings.NewReader(truncated), pub); err != nil || v.OK || v.BadSeq == 0 {
			t.Errorf("a truncated export: %+v, %v", v, err)
		}
		rewrite(t, b, 11)
		file.Reset()
		exporter := &state.AuditLog{DB: b.db, Anchor: &state.Anchor{Store: b.audit.Anchor.Store, PublicKey: pub}}
		if err := exporter.Export(ctx, &file); err != nil {
			t.Fatal(err)
		}
		v, err = dsr.VerifyAuditExport(bytes.NewReader(file.Bytes()), pub)
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, v, 11, 12, "changed")
		if _, err := dsr.VerifyAuditExport(strings.NewReader("{}\n"), pub); err == nil {
			t.Error("a file that is no export was accepted")
		}
	})
}

// TestCheckpointAfterErasure: the Runner's notice of a completed erasure
// checkpoints the chain (its certificate is anchored at once); that of an
// access request does not.
func TestCheckpointAfterErasure(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		store := anchored(t, b)
		cp := state.Checkpointer{Audit: b.audit}
		count := func() int {
			cps, err := store.Checkpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return len(cps)
		}
		appendN(t, b, 1)
		if err := cp.RequestEnded(ctx, &dsr.Request{Type: dsr.TypeAccess, Status: dsr.StatusCompleted}); err != nil || count() != 3 {
			t.Errorf("an access request's end wrote a checkpoint: %d, %v", count(), err)
		}
		if err := cp.RequestEnded(ctx, &dsr.Request{Type: dsr.TypeErasure, Status: dsr.StatusCompleted}); err != nil || count() != 4 {
			t.Errorf("a completed erasure left %d checkpoints, %v; want one more", count(), err)
		}
	})
}

// TestCheckpointSignsADurableHead: a request's start appends its
// request.running entry in a commit that does not wait for the disk, so a
// checkpoint reads the head by a write committed synchronously (on the
// durable pool), which flushes every entry before it; a plain read would
// sign an entry that a crash of the state database could take back.
func TestCheckpointSignsADurableHead(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		anchored(t, b)
		r := b.create(t, admin, dsr.TypeErasure, "anchored@example.com", "")
		if _, _, err := b.runs.Start(ctx, r.ID, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		stmts := &statementCounter{Interface: logger.Discard}
		b.db.Gorm.Logger = stmts
		c, err := b.audit.Checkpoint(ctx)
		if err != nil || c == nil {
			t.Fatalf("checkpoint %+v, %v", c, err)
		}
		var seq int64
		if err := b.db.SQL.QueryRowContext(ctx, "SELECT seq FROM lethe_audit_head WHERE id = 1").Scan(&seq); err != nil || c.Seq != seq {
			t.Fatalf("checkpoint of entry %d; the head is %d (%v)", c.Seq, seq, err)
		}
		got := stmts.since(0)
		// The head is read by one synchronous UPDATE; the only other
		// statement reads the entry of the last checkpoint (12), which the
		// chain must still hold.
		if len(got) != 2 || !strings.HasPrefix(got[0], "UPDATE lethe_audit_head SET seq = seq") ||
			!strings.Contains(got[1], "lethe_audit") || !strings.HasSuffix(got[1], "WHERE seq = 12 LIMIT 1") {
			t.Errorf("the checkpoint read the head with %q; want one synchronous UPDATE of it, then entry 12", got)
		}
	})
}
