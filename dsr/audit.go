package dsr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	for _, part := range []string{
		e.PrevHash, strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Action, e.RequestID, e.Tenant, string(e.Subject), string(e.Details),
	} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
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
	OK      bool   `json:"ok"`
	Entries int64  `json:"entries"`
	BadSeq  int64  `json:"bad_seq,omitempty"` // first entry found changed or missing
	Problem string `json:"problem,omitempty"`
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
