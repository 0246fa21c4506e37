package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// mode says which row set of a collection a target describes: every row
// tied to the subject (found), or those a tenant-scoped request may touch.
type mode string

const (
	modeFound  mode = "found"
	modeScoped mode = "scoped"
)

// run is the state of one execution or dry run.
type run struct {
	e             *Engine
	req           *dsr.Request // nil for a dry run
	reg           *registry.Registry
	email, tenant string
	// ids holds the subject's identities by type (email included): those
	// the request was filed with, then those enrichment found.
	ids map[string][]string
	// names holds the subject's names, looked for in mentions: read
	// from their rows, or the frozen ones on a resumed run.
	names    []string
	j        dsr.Journal // nil for a dry run
	freezing bool        // key sets of hops are frozen as the walk builds them
	frozen   map[string]bool
	frozenN  int64 // keys frozen by this run
	memo     map[string]*target
	// unsynced is set while the journal holds the freeze step (see
	// synced): nothing may change before it is durable.
	unsynced bool
}

func (e *Engine) newRun(reg *registry.Registry, email, tenant string, j dsr.Journal) *run {
	return &run{e: e, reg: reg, email: email, tenant: tenant, j: j, ids: newIdentities(email, nil),
		frozen: map[string]bool{}, memo: map[string]*target{}}
}

// target is the row set of one collection as the walk found it: matches
// that go to the store as they are, plus key sets loaded in chunks.
type target struct {
	c      *registry.Collection
	store  connector.Store
	fixed  []connector.Match
	lits   []literal
	tenant string
}

// literal is a key set matched against columns, read from src in chunks,
// in the rows that meet where.
type literal struct {
	columns []string
	src     func() iterator
	where   []registry.Condition
}

// target returns c's row set in mode m, or nil when a tenant-scoped
// request does not reach c.
func (r *run) target(ctx context.Context, c *registry.Collection, m mode) (*target, error) {
	if r.tenant == "" {
		m = modeFound
	}
	key := string(m) + ":" + c.Key
	if t, ok := r.memo[key]; ok {
		return t, nil
	}
	t, err := r.build(ctx, c, m)
	if err != nil {
		return nil, err
	}
	r.memo[key] = t
	return t, nil
}

func (r *run) build(ctx context.Context, c *registry.Collection, m mode) (*target, error) {
	t := &target{c: c, store: r.e.Stores[c.Store]}
	if c.Templates != nil {
		return r.templateTarget(t, m), nil
	}
	if m == modeScoped && c.Tenant == "" {
		// No tenant column: only the rows hanging from in-scope parents.
		for _, ref := range c.References {
			p := r.reg.Collections[ref.Target]
			pt, err := r.target(ctx, p, modeScoped)
			if err != nil {
				return nil, err
			} else if pt == nil {
				continue
			}
			if err := r.hop(ctx, t, ref, pt, modeScoped); err != nil {
				return nil, err
			}
		}
		if len(t.fixed) == 0 && len(t.lits) == 0 {
			return nil, nil
		}
		return t, nil
	}
	if m == modeScoped {
		t.tenant = r.tenant
	}
	t.fixed = append(t.fixed, r.identityMatches(c)...)
	if set := setName(modeFound, c, c.PrimaryKey); c.Identity() && r.frozen[set] {
		t.lits = append(t.lits, literal{columns: c.PrimaryKey, src: r.frozenKeys(set)})
	}
	for _, ref := range c.References {
		pt, err := r.target(ctx, r.reg.Collections[ref.Target], modeFound)
		if err != nil {
			return nil, err
		}
		if err := r.hop(ctx, t, ref, pt, modeFound); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// identityMatches returns the matches of c's identity columns: each email
// matched case-insensitively, the other identities by their values.
func (r *run) identityMatches(c *registry.Collection) []connector.Match {
	var out []connector.Match
	for _, col := range c.Email {
		for _, email := range r.ids[registry.IdentityEmail] {
			out = append(out, connector.Match{Columns: []string{col}, Email: email})
		}
	}
	for _, kind := range sortedKinds(c.Identities) {
		if vals := r.ids[kind]; len(vals) > 0 {
			for _, col := range c.Identities[kind] {
				out = append(out, connector.Match{Columns: []string{col}, Values: vals})
			}
		}
	}
	return out
}

// hop adds to t the match for reference ref into the parent row set pt: a
// frozen key set (an erasure freezes every one before changing anything, so
// that deleting a parent cannot hide its orphans from verification), a live
// key set from another store, or a sub-selection pushed down into the same
// store (dry runs and access).
func (r *run) hop(ctx context.Context, t *target, ref registry.Reference, pt *target, m mode) error {
	set := setName(m, pt.c, []string{ref.TargetColumn})
	switch {
	case r.frozen[set]:
	case r.freezing:
		if err := r.freezeSet(ctx, set, pt, []string{ref.TargetColumn}); err != nil {
			return err
		}
	case pt.c.Store != t.c.Store:
		t.lits = append(t.lits, literal{columns: []string{ref.Column}, src: pt.values(r, ref.TargetColumn), where: ref.Where})
		return nil
	default:
		sel, err := pt.inline(ctx, r)
		if err != nil {
			return err
		}
		t.fixed = append(t.fixed, connector.Match{Columns: []string{ref.Column}, Parent: &sel, ParentColumn: ref.TargetColumn, Where: ref.Where})
		return nil
	}
	t.lits = append(t.lits, literal{columns: []string{ref.Column}, src: r.frozenKeys(set), where: ref.Where})
	return nil
}

// inline returns t as one Selection with every key set loaded, for nesting
// under a pushed-down hop; EUNPROCESSABLE past Engine.MaxInline keys.
func (t *target) inline(ctx context.Context, r *run) (connector.Selection, error) {
	sel := connector.Selection{Collection: t.c, Matches: append([]connector.Match(nil), t.fixed...), Tenant: t.tenant}
	for _, l := range t.lits {
		var vals []string
		it := l.src()
		for {
			chunk, err := it.next(ctx)
			if err != nil {
				return sel, err
			} else if chunk == nil {
				break
			}
			if vals = append(vals, chunk...); len(vals) > r.e.maxInline() {
				return sel, dsr.Errorf(dsr.EUNPROCESSABLE,
					"collection %s: more than %d keys under one hop; raise the engine's MaxInline", t.c.Key, r.e.maxInline())
			}
		}
		if len(vals) > 0 {
			sel.Matches = append(sel.Matches, connector.Match{Columns: l.columns, Values: vals, Where: l.where})
		}
	}
	return sel, nil
}

// scope returns the targets a request touches, parents first.
func (r *run) scope(ctx context.Context) ([]*target, error) {
	var out []*target
	for _, c := range r.reg.Order() {
		t, err := r.target(ctx, c, modeScoped)
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", c.Key, err)
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// setName names the key set of cols in c's rows in mode m.
func setName(m mode, c *registry.Collection, cols []string) string {
	return string(m) + ":" + c.Key + "." + strings.Join(cols, ",")
}
