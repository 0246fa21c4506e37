package dsr

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Checkpoint is a signed statement of the audit chain's head at a time:
// entry Seq has hash Hash. Kept outside the state store (the anchor), it
// lets a verifier that trusts only the public key catch a writer of the
// state store who removed entries from the end of the chain or rewrote
// entries and recomputed every later hash and the head.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	Signature string    `json:"signature"` // base64 Ed25519 over Message
}

// checkpointDomain separates checkpoint signatures from any other use of
// the key.
const checkpointDomain = "lethe audit checkpoint v1"

// Message returns the bytes the signature covers.
func (c *Checkpoint) Message() []byte {
	return []byte(checkpointDomain + "\n" + strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" +
		c.At.UTC().Truncate(time.Second).Format(time.RFC3339))
}

// SignCheckpoint returns the checkpoint of head (seq, hash) at at, signed
// with key.
func SignCheckpoint(key ed25519.PrivateKey, seq int64, hash string, at time.Time) *Checkpoint {
	c := &Checkpoint{Seq: seq, Hash: hash, At: at.UTC().Truncate(time.Second)}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.Message()))
	return c
}

// Valid reports whether c carries a signature of pub over its content.
func (c *Checkpoint) Valid(pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	return err == nil && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, c.Message(), sig)
}

// SignedBy returns the index of the first key in pubs whose signature c
// carries, or -1.
func (c *Checkpoint) SignedBy(pubs []ed25519.PublicKey) int {
	for i, pub := range pubs {
		if c.Valid(pub) {
			return i
		}
	}
	return -1
}

// CheckpointStore keeps checkpoints outside the state store (the anchor).
type CheckpointStore interface {
	// SaveCheckpoint stores c, replacing a checkpoint of the same Seq.
	SaveCheckpoint(ctx context.Context, c *Checkpoint) error
	// Checkpoints returns every stored checkpoint in Seq order. A stored
	// object that is not a checkpoint is an error naming it.
	Checkpoints(ctx context.Context) ([]*Checkpoint, error)
	// Newest returns the checkpoint of the highest Seq, reading no other;
	// nil when there is none.
	Newest(ctx context.Context) (*Checkpoint, error)
	// Supersede moves cps out of the checkpoints that Checkpoints and
	// Newest read into a folder of their own named by label, where they
	// stay for the record: what an operator's acceptance of a restored
	// state store does with the checkpoints of the chain it lost.
	Supersede(ctx context.Context, label string, cps []*Checkpoint) error
}

// ParseAuditKey reads LETHE_AUDIT_KEY: a 32-byte Ed25519 seed as 64 hex
// digits or base64 (openssl rand -hex 32). The message never repeats it.
func ParseAuditKey(s string) (ed25519.PrivateKey, error) {
	seed, err := decodeKey(s, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("LETHE_AUDIT_KEY: %w (generate one with: openssl rand -hex 32)", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads a public key as FormatPublicKey writes it (64 hex
// digits; base64 is accepted too).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeKey(s, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("public key: %w (lethe audit pubkey prints it)", err)
	}
	return ed25519.PublicKey(b), nil
}

// FormatPublicKey returns pub as 64 hex digits.
func FormatPublicKey(pub ed25519.PublicKey) string { return hex.EncodeToString(pub) }

func decodeKey(s string, size int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == size {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == size {
			return b, nil
		}
	}
	return nil, errors.New("want " + strconv.Itoa(size) + " bytes as " + strconv.Itoa(2*size) + " hex digits or base64")
}
