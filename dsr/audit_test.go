package dsr

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

// chain returns n linked entries.
func chain(n int) []*AuditEntry {
	var out []*AuditEntry
	prev := ""
	for i := 1; i <= n; i++ {
		e := &AuditEntry{Seq: int64(i), At: runnerNow.Add(time.Duration(i) * time.Minute), Actor: "admin",
			Action: "request.created", RequestID: "r", Subject: "subj", Details: []byte(`{"n":1}`), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func reader(entries []*AuditEntry) func() (*AuditEntry, error) {
	i := 0
	return func() (*AuditEntry, error) {
		if i == len(entries) {
			return nil, nil
		}
		i++
		return entries[i-1], nil
	}
}

// TestVerifyChain: a whole chain passes; a changed entry, a removed one,
// a relinked one and a cut end are each caught at the right entry.
func TestVerifyChain(t *testing.T) {
	whole := chain(5)
	head := whole[4]
	v, err := VerifyChain(reader(whole), head.Seq, head.Hash)
	if err != nil || !v.OK || v.Entries != 5 {
		t.Fatalf("whole chain: %+v %v", v, err)
	}
	for _, tc := range []struct {
		name    string
		change  func([]*AuditEntry) []*AuditEntry
		headSeq int64
		bad     int64
		problem string
	}{
		{"changed", func(c []*AuditEntry) []*AuditEntry { c[2].Action = "request.cancelled"; return c }, 5, 3, "changed"},
		{"removed", func(c []*AuditEntry) []*AuditEntry { return append(c[:2], c[3:]...) }, 5, 3, "missing"},
		{"relinked", func(c []*AuditEntry) []*AuditEntry {
			c[3].PrevHash = c[1].Hash
			c[3].Hash = c[3].ComputeHash()
			return c
		}, 5, 4, "does not link"},
		{"cut at the end", func(c []*AuditEntry) []*AuditEntry { return c[:4] }, 5, 5, "chain end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := tc.change(chain(5))
			v, err := VerifyChain(reader(entries), tc.headSeq, head.Hash)
			if err != nil || v.OK || v.BadSeq != tc.bad || !strings.Contains(v.Problem, tc.problem) {
				t.Fatalf("got %+v %v; want broken at %d (%s)", v, err, tc.bad, tc.problem)
			}
		})
	}
}

// TestVerifyAnchoredChain: a rewrite that recomputed every later hash and
// the head passes the chain alone but not the signed checkpoint; a cut
// end is caught by the newest checkpoint; a checkpoint signed with another
// key fails the verification.
func TestVerifyAnchoredChain(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	orig := chain(6)
	cps := []*Checkpoint{SignCheckpoint(key, 4, orig[3].Hash, runnerNow), SignCheckpoint(key, 2, orig[1].Hash, runnerNow)}

	v, err := VerifyAnchoredChain(reader(orig), 6, orig[5].Hash, cps, pub)
	if err != nil || !v.OK || !v.Anchored || v.Checkpoint.Seq != 4 || v.Checkpoint.Checked != 2 {
		t.Fatalf("whole chain: %+v %v", v, err)
	}

	rewritten := chain(6)
	rewritten[2].Actor = "someone"
	for i := 2; i < 6; i++ {
		rewritten[i].PrevHash = rewritten[i-1].Hash
		rewritten[i].Hash = rewritten[i].ComputeHash()
	}
	if v, _ := VerifyChain(reader(rewritten), 6, rewritten[5].Hash); !v.OK {
		t.Fatalf("the rewritten chain should look whole alone: %+v", v)
	}
	v, err = VerifyAnchoredChain(reader(rewritten), 6, rewritten[5].Hash, cps, pub)
	if err != nil || v.OK || v.BadSeq != 3 || v.BadTo != 4 {
		t.Fatalf("rewritten: %+v %v; want entries 3 to 4 changed", v, err)
	}

	cut := chain(6)[:3]
	v, err = VerifyAnchoredChain(reader(cut), 3, cut[2].Hash, cps, pub)
	if err != nil || v.OK || v.BadSeq != 4 || v.BadTo != 4 || !strings.Contains(v.Problem, "missing") {
		t.Fatalf("cut: %+v %v; want entry 4 missing", v, err)
	}

	_, other, _ := ed25519.GenerateKey(nil)
	forged := append(cps, SignCheckpoint(other, 6, orig[5].Hash, runnerNow))
	v, err = VerifyAnchoredChain(reader(orig), 6, orig[5].Hash, forged, pub)
	if err != nil || v.OK || !strings.Contains(v.Problem, "no valid signature") {
		t.Fatalf("forged checkpoint: %+v %v", v, err)
	}
}
