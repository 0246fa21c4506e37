package engine

import (
	"context"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Plan is what an erasure would touch: the dry run's answer.
type Plan struct {
	Collections []PlanItem `json:"collections"`
	// Total is the number of rows an erasure would delete or anonymise;
	// kept rows are listed but not counted.
	Total int64 `json:"total"`
	// Files lists, per file column, the objects an erasure would delete
	// and the references it would refuse.
	Files []PlanFiles `json:"files"`
	// Identities counts, by type, the identities the walk matched: those
	// given and those enrichment found. Values are never shown.
	Identities map[string]int `json:"identities"`
	// Keys counts, per redis store, the keys an erasure would delete: those
	// its key templates, filled with the person's values, match now.
	Keys []PlanKeys `json:"keys"`
	// Mentions counts, per collection that declares mentions, the
	// mentions of the person in other people's rows that an erasure
	// would replace with pseudonyms; empty when none declares them.
	Mentions []PlanMention `json:"mentions"`
}

// PlanItem is one collection of a Plan.
type PlanItem struct {
	Store      string `json:"store"`
	Collection string `json:"collection"`
	Count      int64  `json:"count"`
	Action     string `json:"action"` // delete, anonymize or keep
}

// Plan walks the registry from email (restricted to tenant when it is not
// empty) and counts, collection by collection in parents-first order, the
// rows an erasure would touch, and the file references it would follow
// or refuse. It changes nothing and freezes nothing.
//
// Errors: EUNPROCESSABLE for an email or tenant that is not valid, or a
// store of the registry that is not configured; EUNAVAILABLE when a store
// cannot be reached.
func (e *Engine) Plan(ctx context.Context, email, tenant string) (*Plan, error) {
	return e.dryRun(ctx, map[string]string{registry.IdentityEmail: email}, tenant, true)
}

// PlanIdentities is Plan for a person named by identities by type, such as
// {"phone": "+44 7700 900123"}: each is normalised by the registry's rules,
// then enrichment finds the others before the walk. Errors as for Plan,
// and EUNPROCESSABLE for no identity, an unknown type or a value that
// does not normalise.
func (e *Engine) PlanIdentities(ctx context.Context, ids map[string]string, tenant string) (*Plan, error) {
	return e.dryRun(ctx, ids, tenant, true)
}

// dryRun is Plan, resolving file references only withFiles.
func (e *Engine) dryRun(ctx context.Context, ids map[string]string, tenant string, withFiles bool) (*Plan, error) {
	norm, err := NormalizeIdentities(e.Registry, ids)
	if err != nil {
		return nil, err
	}
	if tenant != "" {
		if err := dsr.ValidateTenant(tenant); err != nil {
			return nil, err
		}
	}
	email := norm[registry.IdentityEmail]
	delete(norm, registry.IdentityEmail)
	r := e.newRun(e.Registry, email, tenant, nil)
	r.ids = newIdentities(email, norm)
	if err := r.checkStores(); err != nil {
		return nil, err
	}
	if err := r.enrich(ctx, nil); err != nil {
		return nil, err
	}
	return r.plan(ctx, withFiles)
}

// NormalizeIdentities implements the API's Planner: NormalizeIdentities
// with the engine's registry.
func (e *Engine) NormalizeIdentities(ids map[string]string) (map[string]string, error) {
	return NormalizeIdentities(e.Registry, ids)
}

// NormalizeIdentities normalises identities by type with reg's rules (see
// registry.Registry.NormalizeIdentity), dropping empty ones. Errors:
// EUNPROCESSABLE for none left, an unknown type or a value that does not
// normalise; the message never repeats a value.
func NormalizeIdentities(reg *registry.Registry, ids map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for kind, raw := range ids {
		if strings.TrimSpace(raw) == "" && len(ids) > 1 {
			continue
		}
		v, err := reg.NormalizeIdentity(kind, raw)
		if err != nil {
			return nil, err
		}
		out[kind] = v
	}
	if len(out) == 0 {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "identities: give at least one, such as {\"email\": …} or {\"phone\": …}")
	}
	return out, nil
}

// plan counts the targets' rows and, withFiles, resolves their file
// references (see planFiles).
func (r *run) plan(ctx context.Context, withFiles bool) (*Plan, error) {
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := r.count(ctx, targets)
	if err != nil {
		return nil, err
	}
	p := &Plan{Collections: []PlanItem{}, Identities: r.identityCounts()}
	for _, t := range targets {
		n := counts[t.c.Key]
		p.Collections = append(p.Collections, PlanItem{Store: t.c.Store, Collection: t.c.Name, Count: n,
			Action: string(t.c.Erasure.Action)})
		if t.c.Erasure.Action != "keep" {
			p.Total += n
		}
	}
	if withFiles {
		if p.Files, err = r.planFiles(ctx, targets); err != nil {
			return nil, err
		}
		if p.Keys, err = r.planKeys(ctx, targets); err != nil {
			return nil, err
		}
		if p.Mentions, err = r.mentionCounts(ctx, r.person(), false); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Touches implements dsr.TenantProbe: whether an erasure of email within
// tenant would touch any record. It counts rows only. Errors as for Plan.
func (e *Engine) Touches(ctx context.Context, email, tenant string) (bool, error) {
	if email == "" {
		return true, nil // filed by another identity: the cautious answer
	}
	p, err := e.dryRun(ctx, map[string]string{registry.IdentityEmail: email}, tenant, false)
	if err != nil {
		return false, err
	}
	for _, c := range p.Collections {
		if c.Count > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Subjects implements dsr.SubjectFinder: the subjects (current and legacy)
// of the emails enrichment reaches from req's identities, read live.
// Errors as for Plan; none without a Hasher.
func (e *Engine) Subjects(ctx context.Context, req *dsr.Request) ([]dsr.Subject, error) {
	if e.Hasher == nil {
		return nil, nil
	}
	r := e.newRun(e.Registry, req.Email, req.Tenant, nil)
	r.ids = newIdentities(req.Email, req.Identities)
	if err := r.checkStores(); err != nil {
		return nil, err
	}
	if err := r.enrich(ctx, nil); err != nil {
		return nil, err
	}
	var out []dsr.Subject
	for _, email := range r.ids[registry.IdentityEmail] {
		out = append(out, e.Hasher.Subjects(email)...)
	}
	return out, nil
}

var (
	_ dsr.TenantProbe   = (*Engine)(nil)
	_ dsr.SubjectFinder = (*Engine)(nil)
)
