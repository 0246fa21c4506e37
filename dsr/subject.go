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
	// tenants caches the derived key of each tenant seen (TenantView runs
	// once per request listed); bounded by maxCachedTenants.
	tenants     sync.Map // tenant → []byte
	tenantCount atomic.Int64
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
	return &SubjectHasher{secret: secret, audit: derive(secret, infoAudit), anon: derive(secret, infoAnonymize)}
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

// Subjects returns the Subject of email and its Legacy one.
func (h *SubjectHasher) Subjects(email string) []Subject {
	return []Subject{h.Subject(email), h.Legacy(email)}
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
