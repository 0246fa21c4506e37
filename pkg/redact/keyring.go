package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// Keyring hands out the Redactor of each tenant from one service secret,
// building each once. It is safe for concurrent use.
type Keyring struct {
	secret []byte
	mu     sync.Mutex
	byTen  map[string]*Redactor
}

// NoTenant is the name Keyring.For uses for rows that belong to no tenant;
// it is not a valid tenant name, so it never shares a key with one.
const NoTenant = "-"

// NewKeyring returns the Keyring whose tenant keys derive from secret
// through a key of its own, HMAC-SHA256(secret, "lethe/redact"), so that
// the service's subject key can serve as secret without its hashes of
// e-mail addresses matching any pseudonym. Errors: ErrShortSecret.
func NewKeyring(secret []byte) (*Keyring, error) {
	if len(secret) < MinSecretLen {
		return nil, ErrShortSecret
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lethe/redact"))
	return &Keyring{secret: m.Sum(nil), byTen: map[string]*Redactor{}}, nil
}

// For returns tenant's Redactor; "" is NoTenant. It never fails on a
// Keyring from NewKeyring.
func (k *Keyring) For(tenant string) *Redactor {
	if tenant == "" {
		tenant = NoTenant
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if r := k.byTen[tenant]; r != nil {
		return r
	}
	r, err := NewRedactor(k.secret, tenant)
	if err != nil { // unreachable: the secret is 32 bytes and tenant not empty
		panic(err)
	}
	if len(k.byTen) > 10000 { // bound the cache; tenants are few
		clear(k.byTen)
	}
	k.byTen[tenant] = r
	return r
}

// SetPeople sets the dictionary of tenant's known people (nil: none) on
// its Redactor; see Redactor.SetPeople.
func (k *Keyring) SetPeople(tenant string, p *People) { k.For(tenant).SetPeople(p) }
