package api

import (
	"cmp"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// ownTenant returns the tenant of the path after checking that the caller
// is the admin or a key of that tenant. Another tenant's key gets 404, as
// on every route: it learns nothing about a tenant it cannot see.
// A slug nobody registered is 404 too.
func (s *Server) ownTenant(c echo.Context) (string, error) {
	t := c.Param("tenant")
	if err := dsr.ValidateTenant(t); err != nil {
		return "", err
	}
	if !caller(c).CanSee(t) {
		return "", dsr.Errorf(dsr.ENOTFOUND, "tenant %s not found: a tenant key sees its own tenant only", t)
	}
	return t, s.known(c.Request().Context(), t)
}

func (s *Server) getSettings(c echo.Context) error {
	t, err := s.ownTenant(c)
	if err != nil {
		return err
	}
	if s.Settings == nil {
		return c.JSON(http.StatusOK, retention.Settings{Tenant: t, Retention: map[string]string{}, CollectResponses: true})
	}
	st, err := s.Settings.Settings(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

type settingsBody struct {
	Retention        map[string]string `json:"retention"`
	CollectResponses *bool             `json:"collect_responses"`
	ObfuscateHistory *bool             `json:"obfuscate_history"`
	// Approval sets the fields given of the studio's review gate.
	Approval *approvalBody `json:"approval"`
	// ConfirmPurge confirms turning collect_responses off, which purges the
	// responses already stored.
	ConfirmPurge bool `json:"confirm_purge"`
	// Tenant, UpdatedAt and UpdatedBy are read-only: a document read with
	// GET can be sent back with one field changed, and they are ignored
	// when they match what is stored (see readOnly).
	Tenant    *string         `json:"tenant"`
	UpdatedAt json.RawMessage `json:"updated_at"`
	UpdatedBy *string         `json:"updated_by"`
}

// readOnly checks the read-only fields of body against cur, the stored
// settings of tenant t: absent or unchanged they are ignored. A changed
// tenant or updated_by is EUNPROCESSABLE; a changed updated_at is
// ECONFLICT, since it means the settings changed after the client read
// them.
func (body *settingsBody) readOnly(t string, cur *retention.Settings) error {
	// updated_at first: a document read before another change differs in
	// updated_by too, and the conflict is what the client must hear.
	if body.UpdatedAt != nil {
		var at *time.Time
		if err := json.Unmarshal(body.UpdatedAt, &at); err != nil {
			return dsr.Errorf(dsr.EINVALID, "updated_at: an RFC 3339 time or null, as GET returned it")
		}
		if (at == nil) != (cur.UpdatedAt == nil) || (at != nil && !at.Equal(*cur.UpdatedAt)) {
			was := "never set"
			if cur.UpdatedAt != nil {
				was = cur.UpdatedAt.UTC().Format(time.RFC3339Nano)
			}
			return dsr.Errorf(dsr.ECONFLICT, "updated_at: the settings of tenant %s changed after they were read (updated_at is now %s): "+
				"GET them again and apply the change to that, or leave updated_at out", t, was)
		}
	}
	if body.Tenant != nil && *body.Tenant != t {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "tenant: read-only; it is the tenant of the path (%s): leave it out or unchanged", t)
	}
	if body.UpdatedBy != nil && *body.UpdatedBy != cur.UpdatedBy {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "updated_by: read-only; Lethe sets it: leave it out or unchanged")
	}
	return nil
}

// putSettings is PUT /v1/tenants/{tenant}/settings: it sets the fields
// given and keeps the others (retention, when given, replaces the
// overrides; {} clears them). The document GET returns is accepted back:
// its read-only fields are checked by settingsBody.readOnly. A window longer than the registry's, or a
// collection the registry does not know, is 422; so is turning
// collect_responses off without "confirm_purge": true, with a message that
// says what would be purged.
func (s *Server) putSettings(c echo.Context) error {
	t, err := s.ownTenant(c)
	if err != nil {
		return err
	}
	var body settingsBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if s.Registry == nil || s.Settings == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	ctx := c.Request().Context()
	var overrides map[string]string
	if body.Retention != nil {
		if overrides, err = retention.CheckOverrides(s.Registry, body.Retention); err != nil {
			return err
		}
	}
	approve := approvalBody{}
	if body.Approval != nil {
		approve = *body.Approval
	}
	// The merge runs under the settings row's lock, so a concurrent PUT of
	// other fields cannot undo this one's (nor this one undo it).
	st, err := s.Settings.UpdateSettings(ctx, caller(c).Actor(), t, func(cur *retention.Settings) (*retention.Settings, error) {
		if err := body.readOnly(t, cur); err != nil {
			return nil, err
		}
		return retention.SettingsChange{Retention: overrides, CollectResponses: body.CollectResponses,
			ObfuscateHistory: body.ObfuscateHistory, ConfirmPurge: body.ConfirmPurge,
			ApproveErasure: approve.Erasure, ApproveAccess: approve.Access}.Apply(cur, s.Registry, s.ResponsesEvery)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) responsesEvery() time.Duration {
	return cmp.Or(s.ResponsesEvery, retention.DefaultResponsesEvery)
}

// approvalBody is the approval object of PUT settings: a field left out
// keeps its value.
type approvalBody struct {
	Erasure *bool `json:"erasure"`
	Access  *bool `json:"access"`
}

type policyJSON struct {
	Tenant      string           `json:"tenant"`
	Collections []retention.Rule `json:"collections"`
	Schedule    string           `json:"schedule"`
	LastRun     lastRunJSON      `json:"last_run"`
	// CollectResponses false: the application must not store the
	// collections Responses lists for this tenant.
	CollectResponses bool                `json:"collect_responses"`
	Responses        responsesPolicyJSON `json:"responses"`
	// ObfuscateHistory true: owner views must show history only as
	// History.Via returns it.
	ObfuscateHistory bool              `json:"obfuscate_history"`
	History          historyPolicyJSON `json:"history"`
	// Approval is the review gate in force for the tenant: the registry's
	// approval: section and the studio's own choice together.
	Approval dsr.ApprovalRule `json:"approval"`
}

// responsesPolicyJSON says what collect_responses covers.
type responsesPolicyJSON struct {
	Store       bool     `json:"store"`
	Collections []string `json:"collections"`
	// PurgeEvery is how often what is stored anyway is purged while
	// collection is off.
	PurgeEvery string `json:"purge_every"`
}

// historyPolicyJSON says how owner views must show history.
type historyPolicyJSON struct {
	Obfuscate bool `json:"obfuscate"`
	// Via is the route owner views pass history through: "POST /v1/redact"
	// when Obfuscate, else "".
	Via string `json:"via"`
}

// getPolicy is GET /v1/tenants/{tenant}/policy: what the application may
// store for the tenant and for how long, the tenant's overrides applied.
func (s *Server) getPolicy(c echo.Context) error {
	t, err := s.ownTenant(c)
	if err != nil {
		return err
	}
	if s.Registry == nil || s.Settings == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	st, err := s.Settings.Settings(c.Request().Context(), t)
	if err != nil {
		return err
	}
	// collect_responses: false in the registry holds for every tenant.
	collect := st.CollectResponses && s.Registry.CollectResponses
	out := policyJSON{Tenant: t, Collections: retention.Rules(s.Registry, st.Retention), Schedule: s.Registry.Schedule.Cron,
		CollectResponses: collect, ObfuscateHistory: st.ObfuscateHistory,
		Responses: responsesPolicyJSON{Store: collect, Collections: []string{}, PurgeEvery: s.responsesEvery().String()},
		History:   historyPolicyJSON{Obfuscate: st.ObfuscateHistory},
		Approval:  st.Approval.Or(dsr.ApprovalRule{Erasure: s.Registry.Approval.Erasure, Access: s.Registry.Approval.Access})}
	for _, c := range s.Registry.ResponseCollections() {
		out.Responses.Collections = append(out.Responses.Collections, c.Key)
	}
	sort.Strings(out.Responses.Collections)
	if st.ObfuscateHistory {
		out.History.Via = "POST /v1/redact"
	}
	if out.Schedule == "" {
		out.Schedule = retention.DefaultSchedule
	}
	if s.LastSweep != nil {
		if out.LastRun.At, err = s.LastSweep(c.Request().Context()); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}
