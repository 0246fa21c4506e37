package retention

import (
	"context"
	"time"
)

// Settings are one tenant's privacy settings. Retention overrides apply
// now; CollectResponses and ObfuscateHistory are stored for the owner-side
// privacy features and have no effect on sweeps yet.
type Settings struct {
	Tenant string `json:"tenant"`
	// Retention maps a collection ("app.chats") to the tenant's window
	// ("7d"); it may only be shorter than the registry's.
	Retention map[string]string `json:"retention"`
	UpdatedAt *time.Time        `json:"updated_at"`
	UpdatedBy string            `json:"updated_by,omitempty"`
}

// SettingsStore keeps tenant settings in Lethe's state.
type SettingsStore interface {
	// Settings returns tenant's settings; a tenant never set has empty
	// Retention and a nil UpdatedAt.
	Settings(ctx context.Context, tenant string) (*Settings, error)
	// PutSettings replaces tenant's settings (already checked) and appends
	// an audit entry naming what changed, in one transaction.
	PutSettings(ctx context.Context, actor string, s *Settings) (*Settings, error)
	// Overrides returns every tenant's retention overrides:
	// tenant → collection → window.
	Overrides(ctx context.Context) (map[string]map[string]string, error)
}
