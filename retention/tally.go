package retention

import (
	"context"
	"maps"
	"slices"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// purgeTally is the Tally of the rows of c that sel selects, split as
// unit u's purge counts them (see tenantColumn), with their files.
func purgeTally(u *unit, c *registry.Collection, sel connector.Selection) Tally {
	return Tally{Sel: sel, By: tenantColumn(u, c), Files: slices.Sorted(maps.Keys(c.Files))}
}

// heldTallies are the two tallies whose difference is unit u's held rows:
// its expiring rows ignoring holds, and those it purges, split by tenant
// as its purge counts them.
func heldTallies(u *unit) []Tally {
	by := tenantColumn(u, u.c)
	return []Tally{{Sel: u.base, By: by}, {Sel: u.self, By: by}}
}

// groupTenant is the tenant a group of tally t of unit u is counted under:
// its value of t.By, else u's tenant.
func groupTenant(u *unit, t Tally, g TallyGroup) string {
	if t.By == "" {
		return u.tenant
	}
	return text(g.Value)
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
	ts := heldTallies(u)
	gs, err := s.Stores[u.c.Store].Tally(ctx, ts)
	if err != nil {
		return &stepError{where: "count held rows of " + u.c.Key, err: err}
	}
	countHeld(run, u, ts, gs[0], gs[1])
	return nil
}
