package retention

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// dryRun counts, unit by unit, what a real run would purge, anonymise and
// hold, changing nothing, under the tenants a real run counts them under:
// with one Tally per unit, split by tenant where the real purge or
// anonymisation reads each row's tenant: its tenant column, or its
// parent's through the references (tenantOf). Rows a unit would already have
// removed are not counted again by a later one (the real run would not
// find them).
func (s *Sweeper) dryRun(ctx context.Context, run *Run, units []*unit) error {
	gone := map[string][]connector.Selection{} // collection → selections counted as purged
	minus := func(sel connector.Selection) connector.Selection {
		sel.Except = append(append([]connector.Selection(nil), sel.Except...), gone[sel.Collection.Key]...)
		return sel
	}
	for _, u := range units {
		if u.redact {
			if err := s.redactRows(ctx, run, u, minus(u.self), true); err != nil {
				return err
			}
			continue
		}
		var items []phase
		if u.action == registry.ActionDelete {
			items = append(items, u.cascades...)
		}
		items = append(items, phase{u.c, u.self})
		ts := make([]Tally, 0, len(items)+2)
		for _, it := range items {
			t := s.purgeTally(u, it.c, minus(it.sel))
			if u.action == registry.ActionAnonymize {
				t = s.anonymizeTally(u, t.Sel) // anonymise leaves files
			}
			ts = append(ts, t)
		}
		if u.held {
			ts = append(ts, s.heldTallies(u)...)
		}
		gs, err := s.Stores[u.c.Store].Tally(ctx, ts)
		if err != nil {
			return &stepError{where: "count " + u.c.Key, err: err}
		}
		for i, it := range items {
			for _, g := range gs[i] {
				cnt := run.count(it.c.Key, groupTenant(u, ts[i], g))
				if u.action == registry.ActionAnonymize {
					cnt.RowsAnonymized += g.Rows
					continue
				}
				cnt.RowsPurged += g.Rows
				if s.Files != nil {
					cnt.FilesPurged += g.Files
				} else {
					cnt.FilesPending += g.Files
				}
			}
			if u.action == registry.ActionDelete {
				gone[it.c.Key] = append(gone[it.c.Key], it.sel)
			}
		}
		if u.held {
			n := len(ts)
			countHeld(run, u, ts[n-2:], gs[n-2], gs[n-1])
		}
		if err := s.save(ctx, run, nil); err != nil {
			return err
		}
	}
	return nil
}
