package engine

import (
	"context"

	"github.com/lethe-privacy/lethe/dsr"
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
	return e.dryRun(ctx, email, tenant, true)
}

// dryRun is Plan, resolving file references only withFiles.
func (e *Engine) dryRun(ctx context.Context, email, tenant string, withFiles bool) (*Plan, error) {
	norm, err := dsr.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if tenant != "" {
		if err := dsr.ValidateTenant(tenant); err != nil {
			return nil, err
		}
	}
	r := e.newRun(e.Registry, norm, tenant, nil)
	if err := r.checkStores(); err != nil {
		return nil, err
	}
	return r.plan(ctx, withFiles)
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
	p := &Plan{Collections: []PlanItem{}}
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
	}
	return p, nil
}

// Touches implements dsr.TenantProbe: whether an erasure of email within
// tenant would touch any record. It counts rows only. Errors as for Plan.
func (e *Engine) Touches(ctx context.Context, email, tenant string) (bool, error) {
	p, err := e.dryRun(ctx, email, tenant, false)
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

var _ dsr.TenantProbe = (*Engine)(nil)
