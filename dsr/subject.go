package dsr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Subject is the keyed hash that stands for a person wherever Lethe would
// otherwise write an email: logs, error messages, metrics and the audit
// trail. It is hex(HMAC-SHA256(key, FoldEmail(normalised email))).
type Subject string

// SubjectHasher turns normalised emails into Subjects with a secret key
// (LETHE_SUBJECT_KEY). The zero value is not usable.
type SubjectHasher struct {
	key []byte
}

// NewSubjectHasher returns a hasher keyed with key; an empty key is refused
// by the caller's configuration validation, not here.
func NewSubjectHasher(key []byte) *SubjectHasher {
	return &SubjectHasher{key: append([]byte(nil), key...)}
}

// Subject returns the Subject of a normalised email. Addresses that differ
// only in case give the same Subject, as stores match them case-insensitively.
func (h *SubjectHasher) Subject(email string) Subject {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(FoldEmail(email)))
	return Subject(hex.EncodeToString(m.Sum(nil)))
}

// Sign returns hex(HMAC-SHA256(key, purpose || 0 || data)): a MAC for Lethe's
// own tokens (such as list cursors), separated by purpose from subjects.
func (h *SubjectHasher) Sign(purpose string, data []byte) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}
