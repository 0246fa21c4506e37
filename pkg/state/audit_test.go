package state_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// appendN appends n entries for requests r1, r2, r1, r2, …
func appendN(t *testing.T, b *bundle, n int) []*dsr.AuditEntry {
	t.Helper()
	var out []*dsr.AuditEntry
	for i := range n {
		b.clock.Advance(time.Second)
		e, err := b.audit.Append(context.Background(), dsr.AuditEvent{Actor: "admin", Action: "test.event",
			RequestID: fmt.Sprintf("r%d", i%2+1), Tenant: "studio-a", Subject: "abc123",
			Details: map[string]any{"i": i, "counts": map[string]int{"app.users": i}}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditAppendList(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		appended := appendN(t, b, 5)
		all, err := b.audit.List(ctx, dsr.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Fatalf("listed %d entries, want 5", len(all))
		}
		prev := ""
		for i, e := range all {
			a := appended[i]
			if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != a.Hash || e.Hash != e.ComputeHash() ||
				!e.At.Equal(a.At) || string(e.Details) != string(a.Details) {
				t.Errorf("entry %d read back as %+v, appended %+v", i+1, e, a)
			}
			var d map[string]any
			if err := json.Unmarshal(e.Details, &d); err != nil || d["i"] != float64(i) {
				t.Errorf("entry %d details %s", i+1, e.Details)
			}
			prev = e.Hash
		}
		v, err := b.audit.Verify(ctx)
		if err != nil || !v.OK || v.Entries != 5 {
			t.Fatalf("verify = %+v, %v; want ok with 5 entries", v, err)
		}

		for _, tc := range []struct {
			name string
			f    dsr.AuditFilter
			want []int64
		}{
			{name: "request", f: dsr.AuditFilter{RequestID: "r2"}, want: []int64{2, 4}},
			{name: "after", f: dsr.AuditFilter{AfterSeq: 3}, want: []int64{4, 5}},
			{name: "limit", f: dsr.AuditFilter{Limit: 2}, want: []int64{1, 2}},
			{name: "request after", f: dsr.AuditFilter{RequestID: "r1", AfterSeq: 1}, want: []int64{3, 5}},
			{name: "other tenant", f: dsr.AuditFilter{Tenant: "studio-b"}, want: nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := b.audit.List(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var seqs []int64
				for _, e := range got {
					seqs = append(seqs, e.Seq)
				}
				if fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
					t.Errorf("seqs %v, want %v", seqs, tc.want)
				}
			})
		}
	})
}

func TestAuditConcurrentAppends(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for w := range 4 {
			wg.Go(func() {
				for i := range 10 {
					_, err := b.audit.Append(ctx, dsr.AuditEvent{Actor: "admin", Action: "test.concurrent",
						Details: map[string]int{"worker": w, "i": i}})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		v, err := b.audit.Verify(ctx)
		if err != nil || !v.OK || v.Entries != 40 {
			t.Fatalf("verify after concurrent appends = %+v, %v", v, err)
		}
	})
}

// TestAuditTamper changes the stored chain as someone with database access
// could, and checks that Verify names the first broken entry.
func TestAuditTamper(t *testing.T) {
	t.Parallel()
	rehash := func(t *testing.T, b *bundle, seq int64, details string) {
		es, _ := b.audit.List(context.Background(), dsr.AuditFilter{AfterSeq: seq - 1, Limit: 1})
		e := es[0]
		e.Details = json.RawMessage(details)
		b.exec(t, "UPDATE lethe_audit SET details = ?, hash = ? WHERE seq = ?", details, e.ComputeHash(), seq)
	}
	cases := []struct {
		name    string
		tamper  func(t *testing.T, b *bundle)
		badSeq  int64
		problem string
	}{
		{name: "details changed", badSeq: 3, problem: "changed", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `UPDATE lethe_audit SET details = '{"i":2,"counts":{"app.users":0}}' WHERE seq = 3`)
		}},
		{name: "actor changed", badSeq: 2, problem: "changed", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `UPDATE lethe_audit SET actor = 'someone-else' WHERE seq = 2`)
		}},
		{name: "time changed", badSeq: 4, problem: "changed", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `UPDATE lethe_audit SET at = ? WHERE seq = 4`, t0.Add(-time.Hour))
		}},
		{name: "changed and rehashed", badSeq: 4, problem: "link", tamper: func(t *testing.T, b *bundle) {
			rehash(t, b, 3, `{"i":2}`)
		}},
		{name: "middle entry deleted", badSeq: 3, problem: "missing", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `DELETE FROM lethe_audit WHERE seq = 3`)
		}},
		{name: "first entry deleted", badSeq: 1, problem: "missing", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `DELETE FROM lethe_audit WHERE seq = 1`)
		}},
		{name: "last entry deleted", badSeq: 5, problem: "head", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `DELETE FROM lethe_audit WHERE seq = 5`)
		}},
		{name: "last two entries deleted", badSeq: 4, problem: "head", tamper: func(t *testing.T, b *bundle) {
			b.exec(t, `DELETE FROM lethe_audit WHERE seq >= 4`)
		}},
		{name: "entry added after the head", problem: "head", tamper: func(t *testing.T, b *bundle) {
			es, _ := b.audit.List(context.Background(), dsr.AuditFilter{AfterSeq: 4})
			e := &dsr.AuditEntry{Seq: 6, At: t0, Actor: "admin", Action: "forged", PrevHash: es[0].Hash}
			e.Hash = e.ComputeHash()
			b.exec(t, `INSERT INTO lethe_audit (seq, at, actor, action, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`,
				e.Seq, e.At, e.Actor, e.Action, e.PrevHash, e.Hash)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, b *bundle) {
				appendN(t, b, 5)
				tc.tamper(t, b)
				v, err := b.audit.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if v.OK || (tc.badSeq != 0 && v.BadSeq != tc.badSeq) || !strings.Contains(v.Problem, tc.problem) {
					t.Errorf("verify = %+v, want bad seq %d (%s)", v, tc.badSeq, tc.problem)
				}
			})
		})
	}
}

// TestAuditVerifyLongChain checks a chain longer than Verify's read page, with
// the break past the first page.
func TestAuditVerifyLongChain(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		const n = 1203
		tx := b.db.Gorm.Begin()
		prev := ""
		for seq := int64(1); seq <= n; seq++ {
			e := &dsr.AuditEntry{Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), Actor: "lethe", Action: "seeded",
				Details: json.RawMessage(fmt.Sprintf(`{"seq":%d}`, seq)), PrevHash: prev}
			e.Hash = e.ComputeHash()
			if err := tx.Exec(`INSERT INTO lethe_audit (seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				e.Seq, e.At, e.Actor, e.Action, string(e.Details), e.PrevHash, e.Hash).Error; err != nil {
				t.Fatal(err)
			}
			prev = e.Hash
		}
		if err := tx.Exec(`UPDATE lethe_audit_head SET seq = ?, hash = ? WHERE id = 1`, n, prev).Error; err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit().Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := b.audit.Append(ctx, dsr.AuditEvent{Actor: "admin", Action: "after.seed"}); err != nil {
			t.Fatal(err)
		}
		v, err := b.audit.Verify(ctx)
		if err != nil || !v.OK || v.Entries != n+1 {
			t.Fatalf("verify = %+v, %v; want ok with %d entries", v, err, n+1)
		}
		b.exec(t, `UPDATE lethe_audit SET details = '{"seq":0}' WHERE seq = 1111`)
		if v, err := b.audit.Verify(ctx); err != nil || v.OK || v.BadSeq != 1111 {
			t.Fatalf("verify = %+v, %v; want bad seq 1111", v, err)
		}
	})
}

// TestAuditVerifyWhileAppending checks that a verification running while
// entries are appended sees a consistent chain: appends are not tampering.
func TestAuditVerifyWhileAppending(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		appendN(t, b, 5)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 40 {
				if _, err := b.audit.Append(ctx, dsr.AuditEvent{Actor: "lethe", Action: "test.busy", Details: map[string]int{"i": i}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	loop:
		for checks := 0; ; checks++ {
			select {
			case <-done:
				break loop
			default:
			}
			if v, err := b.audit.Verify(ctx); err != nil || !v.OK {
				t.Errorf("verification %d during appends reports %+v, %v", checks, v, err)
				break
			}
		}
		<-done
		if v, err := b.audit.Verify(ctx); err != nil || !v.OK || v.Entries != 45 {
			t.Errorf("final verify = %+v, %v", v, err)
		}
	})
}
