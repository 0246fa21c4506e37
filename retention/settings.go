package retention

import (
	"context"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Settings are one tenant's privacy settings.
type Settings struct {
	Tenant string `json:"tenant"`
	// Retention maps a collection ("app.chats") to the tenant's window
	// ("7d"); it may only be shorter than the registry's.
	Retention map[string]string `json:"retention"`
	// CollectResponses (default true) false means the application must not
	// store the tenant's end-user responses (the collections marked
	// responses in the registry), and the responses sweep purges those
	// already stored.
	CollectResponses bool `json:"collect_responses"`
	// ObfuscateHistory (default false) true means the application's owner
	// views must show the tenant's history only through POST /v1/redact.
	ObfuscateHistory bool `json:"obfuscate_history"`
	// Approval is what the studio's own review gate holds for an owner's
	// approval, on top of the registry's approval: section.
	Approval  dsr.ApprovalRule `json:"approval"`
	UpdatedAt *time.Time       `json:"updated_at"`
	UpdatedBy string           `json:"updated_by,omitempty"`
}

// SettingsStore keeps tenant settings in Lethe's state.
type SettingsStore interface {
	// Settings returns tenant's settings; a tenant never set has empty
	// Retention, the defaults of the other fields and a nil UpdatedAt.
	Settings(ctx context.Context, tenant string) (*Settings, error)
	// PutSettings replaces tenant's settings (already checked) and appends
	// an audit entry naming what changed, in one transaction.
	PutSettings(ctx context.Context, actor string, s *Settings) (*Settings, error)
	// UpdateSettings reads tenant's settings under a lock, stores what
	// change returns and appends the audit entry, in one transaction, so
	// that concurrent partial updates never undo each other. An error from
	// change is returned as it is and nothing is stored.
	UpdateSettings(ctx context.Context, actor, tenant string, change func(cur *Settings) (*Settings, error)) (*Settings, error)
	// Overrides returns every tenant's retention overrides:
	// tenant → collection → window.
	Overrides(ctx context.Context) (map[string]map[string]string, error)
	// NotCollecting returns the tenants whose CollectResponses is false,
	// sorted.
	NotCollecting(ctx context.Context) ([]string, error)
}
