package retention

import (
	"cmp"
	"sort"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// SettingsChange is a partial change of a tenant's settings, as the API's
// PUT and the console's form send it: nil fields keep what is stored.
type SettingsChange struct {
	// Retention, when not nil, replaces the overrides (already checked
	// with CheckOverrides); an empty map clears them.
	Retention        map[string]string
	CollectResponses *bool
	ObfuscateHistory *bool
	// ConfirmPurge confirms turning CollectResponses off, which purges the
	// responses already stored.
	ConfirmPurge bool
	// ApproveErasure and ApproveAccess, when not nil, set the studio's
	// review gate (Settings.Approval).
	ApproveErasure *bool
	ApproveAccess  *bool
}

// Apply returns the settings of tenant cur.Tenant after ch. Turning
// collect_responses off without ConfirmPurge is EUNPROCESSABLE with a
// message that says what would be purged (ResponseNames of reg) and
// within how long (every; 0 is DefaultResponsesEvery).
func (ch SettingsChange) Apply(cur *Settings, reg *registry.Registry, every time.Duration) (*Settings, error) {
	next := &Settings{Tenant: cur.Tenant, Retention: cur.Retention, CollectResponses: cur.CollectResponses,
		ObfuscateHistory: cur.ObfuscateHistory, Approval: cur.Approval}
	if ch.ApproveErasure != nil {
		next.Approval.Erasure = *ch.ApproveErasure
	}
	if ch.ApproveAccess != nil {
		next.Approval.Access = *ch.ApproveAccess
	}
	if ch.Retention != nil {
		next.Retention = ch.Retention
	}
	if ch.ObfuscateHistory != nil {
		next.ObfuscateHistory = *ch.ObfuscateHistory
	}
	if ch.CollectResponses != nil {
		next.CollectResponses = *ch.CollectResponses
		if cur.CollectResponses && !next.CollectResponses && !ch.ConfirmPurge {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "collect_responses: turning it off purges the responses already stored for tenant %s "+
				"(%s, with the rows and files that hang from them; rows under a legal hold stay) within %s, and tells the application "+
				"to store no more; send \"confirm_purge\": true with the change to confirm", cur.Tenant, ResponseNames(reg),
				cmp.Or(every, DefaultResponsesEvery))
		}
	}
	return next, nil
}

// ResponseNames lists the collections reg marks as responses: what
// collect_responses: false purges.
func ResponseNames(reg *registry.Registry) string {
	var names []string
	for _, c := range reg.ResponseCollections() {
		names = append(names, c.Key)
	}
	if len(names) == 0 {
		return "no collection is marked responses in the registry"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
