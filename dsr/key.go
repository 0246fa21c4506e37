package dsr

import (
	"context"
	"time"
)

// TenantKey is an API key that acts for one tenant only. Its secret is shown
// once, at creation; Lethe keeps only its SHA-256.
type TenantKey struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
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
}
