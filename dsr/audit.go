package dsr

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// AuditEntry is one link of the append-only, hash-chained audit trail.
// Hash = sha256(PrevHash | Seq | At | Actor | Action | RequestID | Tenant |
// Subject | Details); changing or deleting any entry breaks the chain.
type AuditEntry struct {
	Seq       int64           `json:"seq"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	RequestID string          `json:"request_id,omitempty"`
	Tenant    string          `json:"tenant,omitempty"`
	Subject   Subject         `json:"subject,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// ComputeHash returns the hash of e chained to e.PrevHash. Times are taken in
// UTC at microsecond precision, the finest that every state store keeps.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	for _, part := range e.HashedParts() {
		h.Write(FrameHashed(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The indexes of HashedParts.
const (
	HashedPrevHash = iota
	HashedSeq
	HashedAt
	HashedActor
	HashedAction
	HashedRequestID
	HashedTenant
	HashedSubject
	HashedDetails
)

// HashedParts are the parts of e that ComputeHash hashes, in order (see
// the Hashed… indexes), each framed by FrameHashed: a store may compute
// the hash itself from them (Postgres does, from the chain's head).
func (e *AuditEntry) HashedParts() []string {
	return []string{
		e.PrevHash, strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Action, e.RequestID, e.Tenant, string(e.Subject), string(e.Details),
	}
}

// FrameHashed is a part as hashed: its length in bytes, ':' and its bytes.
func FrameHashed(part string) []byte {
	return append(strconv.AppendInt(nil, int64(len(part)), 10), ":"+part...)
}

// AuditEvent is what a caller appends; the log assigns Seq, At and hashes.
type AuditEvent struct {
	Actor     string
	Action    string
	RequestID string
	Tenant    string
	Subject   Subject
	Details   any // marshalled to JSON; must not hold personal data
}

// AuditFilter selects entries in List; zero fields do not filter.
type AuditFilter struct {
	RequestID string
	Tenant    string
	AfterSeq  int64
	Limit     int
}

// AuditVerification is the result of walking the whole chain.
type AuditVerification struct {
	OK      bool  `json:"ok"`
	Entries int64 `json:"entries"`
	BadSeq  int64 `json:"bad_seq,omitempty"` // first entry found changed or missing
	// BadTo is the last entry of the range found changed or missing, when
	// a checkpoint bounds it.
	BadTo   int64  `json:"bad_to,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Anchored says the chain was checked against an anchor of signed
	// checkpoints; Checkpoint is the newest of them, nil when none is
	// written yet (or no anchor is configured).
	Anchored   bool              `json:"anchored"`
	Checkpoint *CheckpointStatus `json:"checkpoint,omitempty"`
}

// CheckpointStatus names the checkpoints a verification used.
type CheckpointStatus struct {
	Seq     int64     `json:"seq"`     // the newest checkpoint's entry
	At      time.Time `json:"at"`      // when it was signed
	Checked int       `json:"checked"` // how many checkpoints were compared
}

// AuditLog is the audit trail.
type AuditLog interface {
	// Append adds an entry at the end of the chain.
	Append(ctx context.Context, ev AuditEvent) (*AuditEntry, error)
	// List returns entries in chain order.
	List(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// Verify walks the chain and reports the first broken link.
	Verify(ctx context.Context) (*AuditVerification, error)
}

// VerifyChain checks entries given in Seq order from the start of the chain
// against headSeq and headHash, the chain's recorded end. It returns the
// first problem found.
func VerifyChain(next func() (*AuditEntry, error), headSeq int64, headHash string) (*AuditVerification, error) {
	v := &AuditVerification{OK: true}
	prev, want := "", int64(1)
	for {
		e, err := next()
		if err != nil {
			return nil, err
		} else if e == nil {
			break
		}
		v.Entries++
		switch {
		case e.Seq != want:
			return v.fail(want, "entry missing: the chain jumps from "+strconv.FormatInt(want-1, 10)+" to "+strconv.FormatInt(e.Seq, 10)), nil
		case e.PrevHash != prev:
			return v.fail(e.Seq, "entry does not link to the one before it"), nil
		case e.ComputeHash() != e.Hash:
			return v.fail(e.Seq, "entry changed: its content does not match its hash"), nil
		}
		prev, want = e.Hash, want+1
	}
	if want-1 != headSeq || prev != headHash {
		return v.fail(want, "chain end does not match the recorded head: entries at the end were removed or added"), nil
	}
	return v, nil
}

func (v *AuditVerification) fail(seq int64, problem string) *AuditVerification {
	v.OK, v.BadSeq, v.Problem = false, seq, problem
	return v
}

// VerifyAnchoredChain checks the chain as VerifyChain does, then against
// checkpoints signed with pub (any order): every checkpoint's entry must
// still carry the signed hash, and the chain must reach the newest one. A
// writer of the state store who rewrote entries and recomputed every later
// hash and the head is caught by the first checkpoint whose hash no longer
// matches (the changed entries lie after the last checkpoint that still
// matches); one who removed entries from the end, by a chain that stops
// short of the newest checkpoint. A checkpoint without a valid signature
// fails the verification: the anchor was written by someone else. A
// checkpoint signed by one of previous (the keys pub's replaced, during a
// rotation) is as valid as one signed by pub.
func VerifyAnchoredChain(next func() (*AuditEntry, error), headSeq int64, headHash string, cps []*Checkpoint, pub ed25519.PublicKey, previous ...ed25519.PublicKey) (*AuditVerification, error) {
	if len(cps) == 0 {
		v, err := VerifyChain(next, headSeq, headHash)
		if v != nil {
			v.Anchored = pub != nil
		}
		return v, err
	}
	cps = slices.Clone(cps)
	slices.SortStableFunc(cps, func(a, b *Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	newest := cps[len(cps)-1]
	status := &CheckpointStatus{Seq: newest.Seq, At: newest.At, Checked: len(cps)}
	for _, c := range cps {
		if c.SignedBy(append([]ed25519.PublicKey{pub}, previous...)) < 0 {
			v := (&AuditVerification{Anchored: true, Checkpoint: status}).fail(c.Seq, fmt.Sprintf(
				"the checkpoint of entry %d (dated %s) has no valid signature of the audit key: the anchor holds a checkpoint Lethe did not write", c.Seq, stamp(c.At)))
			return v, nil
		}
	}
	var changed *Checkpoint
	var matched, last int64
	i := 0
	walk := func() (*AuditEntry, error) {
		e, err := next()
		if e == nil || err != nil {
			return e, err
		}
		last = e.Seq
		for ; i < len(cps) && cps[i].Seq <= e.Seq; i++ {
			switch c := cps[i]; {
			case changed != nil || c.Seq < e.Seq:
			case c.Hash == e.Hash:
				matched = c.Seq
			default:
				changed = c
			}
		}
		return e, nil
	}
	v, err := VerifyChain(walk, headSeq, headHash)
	if err != nil {
		return nil, err
	}
	v.Anchored, v.Checkpoint = true, status
	switch {
	case !v.OK:
	case changed != nil:
		v.fail(matched+1, fmt.Sprintf("entries %d to %d changed since they were checkpointed: entry %d no longer has the hash signed on %s, so entries were rewritten and the later hashes recomputed",
			matched+1, changed.Seq, changed.Seq, stamp(changed.At)))
		v.BadTo = changed.Seq
	case last < newest.Seq:
		v.fail(last+1, fmt.Sprintf("entries %d to %d are missing: the chain ends at entry %d, but the checkpoint signed on %s holds %d entries",
			last+1, newest.Seq, last, stamp(newest.At), newest.Seq))
		v.BadTo = newest.Seq
	}
	return v, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
