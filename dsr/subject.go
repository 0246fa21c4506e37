package dsr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/hkdf"
)

// Subject is the keyed hash that stands for a person wherever Lethe would
// otherwise write an email: logs, error messages, metrics and the audit
// trail. It is hex(HMAC-SHA256(audit key, FoldEmail(normalised email))).
type Subject string

// SubjectHasher turns normalised emails into keyed hashes. From the one
// secret (LETHE_SUBJECT_KEY) it derives, with HKDF-SHA256, a key per use,
// so that no value of one use can be matched against another's:
//
//   - the audit key: Subject, for the audit trail, logs and legal holds;
//   - a key per tenant: TenantView, what a tenant's key is shown of a
//     subject, so that two tenants cannot link their requests about one
//     person, nor a tenant a request to the audit trail;
//   - the anonymisation key: Anonymize, the pseudonym the hmac strategy
//     writes into the application's tables, never shown through the API,
//     so that a pseudonym cannot be found again by filing a request.
//
// The secret itself keys only Sign (Lethe's own tokens) and Legacy. The
// zero value is not usable.
type SubjectHasher struct {
	secret []byte
	audit  []byte
	anon   []byte
	id     string // KeyID(secret), recorded with every request filed
	// tenants caches the derived key of each tenant seen (TenantView runs
	// once per request listed); bounded by maxCachedTenants.
	tenants     sync.Map // tenant → []byte
	tenantCount atomic.Int64
	// previous are the hashers of the keys this one replaced
	// (LETHE_SUBJECT_KEY_PREVIOUS), newest first: values made with them
	// are still matched, never made anew.
	previous []*SubjectHasher
}

// maxCachedTenants bounds the per-tenant key cache; past it keys are
// derived on every call, as they were before there was a cache.
const maxCachedTenants = 4096

// HKDF info strings; changing one changes every value derived with it.
const (
	infoAudit     = "lethe/subject/audit"
	infoAnonymize = "lethe/subject/anonymize"
	infoTenant    = "lethe/subject/tenant\x00"
)

// NewSubjectHasher returns a hasher keyed with key; an empty key is refused
// by the caller's configuration validation, not here.
func NewSubjectHasher(key []byte) *SubjectHasher {
	secret := append([]byte(nil), key...)
	return &SubjectHasher{secret: secret, audit: derive(secret, infoAudit), anon: derive(secret, infoAnonymize), id: KeyID(secret)}
}

// derive returns a 32-byte key for info from secret with HKDF-SHA256.
func derive(secret []byte, info string) []byte {
	out := make([]byte, sha256.Size)
	// HKDF-SHA256 can produce 255*32 bytes; 32 never fails.
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(info)), out); err != nil {
		panic("dsr: hkdf: " + err.Error())
	}
	return out
}

func mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Subject returns the Subject of a normalised email. Addresses that differ
// only in case give the same Subject, as stores match them case-insensitively.
func (h *SubjectHasher) Subject(email string) Subject {
	return Subject(mac(h.audit, FoldEmail(email)))
}

// IdentitySubject returns the Subject of a request filed without an email,
// by another identity (kind "phone", value "+447700900123" normalised): a
// keyed hash of both under the audit key. For kind "email" it is Subject.
func (h *SubjectHasher) IdentitySubject(kind, value string) Subject {
	if kind == "email" {
		return h.Subject(value)
	}
	return Subject(mac(h.audit, kind, "\x00", value))
}

// SubjectOf returns the Subject of a person named by normalised
// identities by type: the email's when there is one, else that of the
// first type by name.
func (h *SubjectHasher) SubjectOf(ids map[string]string) Subject {
	if e := ids["email"]; e != "" {
		return h.Subject(e)
	}
	first := ""
	for k, v := range ids {
		if v != "" && (first == "" || k < first) {
			first = k
		}
	}
	return h.IdentitySubject(first, ids[first])
}

// Legacy returns the Subject an email had before keys were derived per use
// (HMAC keyed with the secret itself): requests filed then still carry it,
// and an erasure looks for their copies under both.
func (h *SubjectHasher) Legacy(email string) Subject {
	return Subject(mac(h.secret, strings.ToLower(email))) // as it was then: no sigma folding
}

// Subjects returns the Subject of email and its Legacy one, then those
// under each previous key: every value a row about email may carry.
func (h *SubjectHasher) Subjects(email string) []Subject {
	out := []Subject{h.Subject(email), h.Legacy(email)}
	for _, p := range h.previous {
		out = append(out, p.Subject(email), p.Legacy(email))
	}
	return out
}

// WithPrevious makes h also match values made with the keys it replaced,
// newest first, and returns h. Empty keys are skipped. Call it before h is
// shared.
func (h *SubjectHasher) WithPrevious(keys ...[]byte) *SubjectHasher {
	for _, k := range keys {
		if len(k) > 0 {
			h.previous = append(h.previous, NewSubjectHasher(k))
		}
	}
	return h
}

// KeyID returns the fingerprint of h's current key (see KeyID).
func (h *SubjectHasher) KeyID() string { return h.id }

// KeyIDs returns the fingerprints of the current key, then the previous.
func (h *SubjectHasher) KeyIDs() []string {
	out := []string{h.KeyID()}
	for _, p := range h.previous {
		out = append(out, p.KeyID())
	}
	return out
}

// Match returns the fingerprint of the key under which email's Subject (or
// its Legacy one) is s, current first; "" when no configured key made it.
func (h *SubjectHasher) Match(email string, s Subject) string {
	for _, k := range append([]*SubjectHasher{h}, h.previous...) {
		if k.Subject(email) == s || k.Legacy(email) == s {
			return k.KeyID()
		}
	}
	return ""
}

// Signs returns Sign(purpose, data) under the current key, then under
// each previous one: what a token issued before a rotation was stored as.
func (h *SubjectHasher) Signs(purpose string, data []byte) []string {
	out := []string{h.Sign(purpose, data)}
	for _, p := range h.previous {
		out = append(out, p.Sign(purpose, data))
	}
	return out
}

// Signed reports, in constant time per key, whether sig is Sign(purpose,
// data) under the current or a previous key.
func (h *SubjectHasher) Signed(purpose string, data []byte, sig string) bool {
	ok := false
	for _, want := range h.Signs(purpose, data) {
		ok = hmac.Equal([]byte(want), []byte(sig)) || ok
	}
	return ok
}

// keyIDInfo is what KeyID's HMAC is computed over.
const keyIDInfo = "lethe key id"

// KeyID returns a short fingerprint of a secret key, safe to store and
// print: the first 8 bytes, in hex, of HMAC-SHA256(key, "lethe key id").
// Rows record the KeyID of the key they were made with, so that lethe keys
// rotate-check can tell what still depends on a key.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(keyIDInfo))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// TenantView returns what tenant is shown of subject s: a keyed hash of s
// under tenant's own derived key. It needs no email, so a request keeps
// its view after its email is forgotten. An empty tenant (the admin, who
// also reads the audit trail) is shown s itself.
func (h *SubjectHasher) TenantView(tenant string, s Subject) Subject {
	if tenant == "" || s == "" {
		return s
	}
	return Subject(mac(h.tenantKey(tenant), string(s)))
}

// tenantKey returns tenant's derived key, from the cache when it is there.
func (h *SubjectHasher) tenantKey(tenant string) []byte {
	if k, ok := h.tenants.Load(tenant); ok {
		return k.([]byte)
	}
	k := derive(h.secret, infoTenant+tenant)
	if h.tenantCount.Load() < maxCachedTenants {
		if _, loaded := h.tenants.LoadOrStore(tenant, k); !loaded {
			h.tenantCount.Add(1)
		}
	}
	return k
}

// Anonymize returns the pseudonym the hmac anonymisation strategy writes
// for value: 64 hex digits, the same for values that differ only in case,
// under a key no value shown through the API is computed with.
func (h *SubjectHasher) Anonymize(value string) string {
	return mac(h.anon, FoldEmail(value))
}

// Sign returns hex(HMAC-SHA256(secret, purpose || 0 || data)): a MAC for
// Lethe's own tokens (such as list cursors), separated by purpose from each
// other and, by the 0 byte that no email holds, from Legacy subjects.
func (h *SubjectHasher) Sign(purpose string, data []byte) string {
	return mac(h.secret, purpose, "\x00", string(data))
}
