package retention

import (
	"context"
	"maps"
	"slices"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// tally is the Tally of the rows of c that sel selects, split by tenant
// as unit u's purge counts them (see tenantOf).
func (s *Sweeper) tally(u *unit, c *registry.Collection, sel connector.Selection) Tally {
	by, via := s.tenantOf(u, c)
	return Tally{Sel: sel, By: by, Via: via}
}

// purgeTally is the Tally of the rows of c that sel selects, split as
// unit u's purge counts them, with their files.
func (s *Sweeper) purgeTally(u *unit, c *registry.Collection, sel connector.Selection) Tally {
	t := s.tally(u, c, sel)
	t.Files = slices.Sorted(maps.Keys(c.Files))
	return t
}

// anonymizeTally is the Tally of the rows of unit u's collection that sel
// selects, split by tenant as its anonymisation counts them: as a purge.
func (s *Sweeper) anonymizeTally(u *unit, sel connector.Selection) Tally {
	return s.tally(u, u.c, sel)
}

// heldTallies are the two tallies whose difference is unit u's held rows:
// its expiring rows ignoring holds, and those it purges, split by tenant
// as its purge counts them.
func (s *Sweeper) heldTallies(u *unit) []Tally {
	return []Tally{s.tally(u, u.c, u.base), s.tally(u, u.c, u.self)}
}

// groupTenant is the tenant a group of tally t of unit u is counted under:
// its value of t.By (or the tenant read through t.Via), else u's tenant.
func groupTenant(u *unit, t Tally, g TallyGroup) string {
	if t.By == "" && len(t.Via) == 0 {
		return u.tenant
	}
	return Text(g.Value)
}

// GroupValues counts vals (comparable values; nil for no tenant) by value,
// in order of first appearance: the groups of a Tally that a store counts
// row by row, such as AnonymizeTally's.
func GroupValues(vals []any) []TallyGroup {
	var out []TallyGroup
	at := map[any]int{}
	for _, v := range vals {
		i, ok := at[v]
		if !ok {
			i = len(out)
			at[v] = i
			out = append(out, TallyGroup{Value: v})
		}
		out[i].Rows++
	}
	return out
}

// countHeld records unit u's held rows per tenant from the groups of
// heldTallies. Each tenant's count is set, not added to: a resumed run
// counts them again.
func countHeld(run *Run, u *unit, ts []Tally, base, self []TallyGroup) {
	held := map[string]int64{}
	for _, g := range base {
		held[groupTenant(u, ts[0], g)] += g.Rows
	}
	for _, g := range self {
		held[groupTenant(u, ts[1], g)] -= g.Rows
	}
	for tenant, n := range held {
		run.count(u.c.Key, tenant).RowsHeld = n
	}
}

// tallyHeld counts unit u's held rows, before a real run purges them.
func (s *Sweeper) tallyHeld(ctx context.Context, run *Run, u *unit) error {
	ts := s.heldTallies(u)
	gs, err := s.Stores[u.c.Store].Tally(ctx, ts)
	if err != nil {
		return &stepError{where: "count held rows of " + u.c.Key, err: err}
	}
	countHeld(run, u, ts, gs[0], gs[1])
	return nil
}
