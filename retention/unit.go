package retention

import (
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// unit is one collection under one policy tier: the rows of c older than
// the tier's window, and (for delete) the rows of its children hanging from
// them, purged deepest first before c's own.
type unit struct {
	key    string // "app.chats" for the registry tier, "app.chats@tenant" for an override
	c      *registry.Collection
	tenant string
	action registry.Action
	// base selects the expiring rows ignoring holds; self excepts the held
	// ones and is what the unit purges. held is false when nothing is held.
	base, self connector.Selection
	held       bool
	cascades   []phase
	// redact marks a unit of the redact action: the expiring rows' text is
	// rewritten, nothing is deleted.
	redact bool
	// noRange keeps the unit off RangeStore's slice-by-slice scan of the
	// whole table: a responses unit selects one tenant's rows.
	noRange bool
}

// phase is the purge of one child collection's rows under a unit.
type phase struct {
	c   *registry.Collection
	sel connector.Selection
}

// planner builds a run's units.
type planner struct {
	reg       *registry.Registry
	asOf      time.Time
	overrides map[string]map[string]string // tenant → collection → window
	holds     map[string][]connector.Selection
	skipped   []string // cross-store children not cascaded
}

// units returns the units of a run, children's own units first
// (registry.ErasureOrder), each tenant override before the registry tier.
func (p *planner) units() []*unit {
	var out []*unit
	tenants := make([]string, 0, len(p.overrides))
	for t := range p.overrides {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	for _, c := range p.reg.ErasureOrder() {
		ret := c.Retention
		if ret == nil || ret.Timestamp == "" {
			continue
		}
		var others []connector.Selection
		for _, t := range tenants {
			raw, ok := p.overrides[t][c.Key]
			if !ok {
				continue
			}
			d, never, err := registry.ParseWindow(raw)
			if err != nil || never || (!ret.Never && d >= ret.Window) {
				continue // not narrower than the registry (which may have changed since)
			}
			scope := connector.InTenant(p.reg, c, t)
			if scope == nil {
				continue
			}
			base := *scope
			base.Older = &connector.Older{Column: ret.Timestamp, Before: p.asOf.Add(-d)}
			out = append(out, p.unit(c, t, base, ret.Action))
			others = append(others, *scope)
		}
		if !ret.Never {
			base := connector.Selection{Collection: c, All: true, Except: others,
				Older: &connector.Older{Column: ret.Timestamp, Before: p.asOf.Add(-ret.Window)}}
			out = append(out, p.unit(c, "", base, ret.Action))
		}
		if ret.RedactAfter > 0 {
			out = append(out, p.redactUnit(c))
		}
	}
	return out
}

func (p *planner) unit(c *registry.Collection, tenant string, base connector.Selection, action registry.Action) *unit {
	u := &unit{key: c.Key, c: c, tenant: tenant, action: action, base: base}
	if tenant != "" {
		u.key += "@" + tenant
	}
	u.self = base
	u.self.Except = append(append([]connector.Selection(nil), base.Except...), p.holds[c.Key]...)
	if u.action == registry.ActionDelete {
		u.self.Except = append(u.self.Except, p.blockers(c)...)
	}
	u.held = len(u.self.Except) > len(base.Except)
	if u.action == registry.ActionDelete {
		u.cascades = p.cascade(c, u.self)
	}
	return u
}

// blockers are the rows of c that may not be deleted because a child row
// that stays hangs from them: a child kept for a legal reason, held, or
// itself staying because of a staying row below it, at any depth (the
// registry has no cycles, so the recursion ends).
func (p *planner) blockers(c *registry.Collection) []connector.Selection {
	var out []connector.Selection
	for _, ch := range p.reg.Children(c.Key) {
		d, ref := ch.Child, ch.Reference
		if d.Store != c.Store {
			continue
		}
		var staying []connector.Selection
		if d.Erasure.Action == registry.ActionKeep {
			staying = []connector.Selection{{Collection: d, All: true}}
		} else {
			staying = append(append([]connector.Selection(nil), p.holds[d.Key]...), p.blockers(d)...)
		}
		for i := range staying {
			out = append(out, connector.Selection{Collection: c, Matches: []connector.Match{{
				Columns: []string{ref.TargetColumn}, Parent: &staying[i], ParentColumn: ref.Column}}})
		}
	}
	return out
}

// cascade returns the phases purging the rows of c's descendants that hang
// from the rows parent selects, deepest first.
func (p *planner) cascade(c *registry.Collection, parent connector.Selection) []phase {
	byChild := map[string][]registry.Reference{}
	var order []*registry.Collection
	for _, ch := range p.reg.Children(c.Key) {
		d := ch.Child
		switch {
		case d.Store != c.Store:
			p.skipped = append(p.skipped, d.Key)
			continue
		case d.Erasure.Action == registry.ActionKeep:
			continue // its parents are excepted by blockers
		}
		if _, ok := byChild[d.Key]; !ok {
			order = append(order, d)
		}
		byChild[d.Key] = append(byChild[d.Key], ch.Reference)
	}
	var out []phase
	for _, d := range order {
		sel := connector.Selection{Collection: d}
		for _, ref := range byChild[d.Key] {
			sel.Matches = append(sel.Matches, connector.Match{Columns: []string{ref.Column}, Parent: &parent, ParentColumn: ref.TargetColumn, Where: ref.Where})
		}
		sel.Except = append(append([]connector.Selection(nil), p.holds[d.Key]...), p.blockers(d)...)
		out = append(out, p.cascade(d, sel)...)
		out = append(out, phase{c: d, sel: sel})
	}
	return out
}
