package dsr

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"time"
)

// TenantKey is an API key that acts for one tenant only. Its secret is shown
// once, at creation; Lethe keeps only its SHA-256.
type TenantKey struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// ExpiresAt is when a key replaced by Rotate stops working.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// OldValidUntil, in the result of Rotate, is when the key replaced
	// stops working: the time asked, or the earlier end a former rotation
	// of that key gave it.
	OldValidUntil *time.Time `json:"old_valid_until,omitempty"`
	// Token is the full bearer token, set only in the result of Create.
	Token string `json:"token,omitempty"`
}

// KeyService issues, checks and revokes tenant keys.
type KeyService interface {
	// Create issues a key for tenant; the result carries Token once.
	// EUNPROCESSABLE for a bad tenant name.
	Create(ctx context.Context, actor string, tenant string) (*TenantKey, error)
	// Revoke revokes key id of tenant; ENOTFOUND when no such key exists.
	Revoke(ctx context.Context, actor string, tenant, id string) error
	// Authenticate returns the live key a bearer token belongs to, or
	// EUNAUTHORIZED. The comparison runs in constant time.
	Authenticate(ctx context.Context, token string) (*TenantKey, error)
	// Rotate issues a new key for tenant (its Token set once) and keeps key
	// id working until oldUntil (or its earlier end, set by a former
	// rotation: the result's OldValidUntil), then refuses it. ENOTFOUND when no such
	// key; ECONFLICT when it is revoked or already expired; EUNPROCESSABLE
	// when oldUntil is in the past or more than MaxKeyOverlap away.
	Rotate(ctx context.Context, actor string, tenant, id string, oldUntil time.Time) (*TenantKey, error)
}

// MaxKeyOverlap is the longest a rotated tenant key may stay valid.
const MaxKeyOverlap = 90 * 24 * time.Hour

// TokenIn reports whether token is one of tokens (empty ones never
// match), comparing SHA-256 sums in constant time and checking every
// candidate, so that the time taken does not tell which one matched.
func TokenIn(token string, tokens ...string) bool {
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for _, t := range tokens {
		want := sha256.Sum256([]byte(t))
		if t != "" {
			ok |= subtle.ConstantTimeCompare(sum[:], want[:])
		}
	}
	return ok == 1
}
