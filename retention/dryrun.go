package retention

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// dryRun counts, unit by unit, what a real run would purge, anonymise and
// hold, changing nothing. Rows a unit would already have removed are not
// counted again by a later one (the real run would not find them).
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
		type item struct {
			c   *registry.Collection
			sel connector.Selection
		}
		var items []item
		if u.action == registry.ActionDelete {
			for _, ph := range u.cascades {
				items = append(items, item{ph.c, ph.sel})
			}
		}
		items = append(items, item{u.c, u.self})
		sels := make([]connector.Selection, 0, len(items)+2)
		for _, it := range items {
			sels = append(sels, minus(it.sel))
		}
		if u.held {
			sels = append(sels, u.base, u.self)
		}
		ns, err := s.Stores[u.c.Store].Count(ctx, sels)
		if err != nil {
			return &stepError{where: "count " + u.c.Key, err: err}
		}
		for i, it := range items {
			cnt := run.count(it.c.Key, u.tenant)
			if u.action == registry.ActionAnonymize {
				cnt.RowsAnonymized += ns[i]
				continue
			}
			cnt.RowsPurged += ns[i]
			// One file per file column of each row: an upper bound, as a
			// column may be NULL.
			if s.Files != nil {
				cnt.FilesPurged += ns[i] * int64(len(it.c.Files))
			} else {
				cnt.FilesPending += ns[i] * int64(len(it.c.Files))
			}
			gone[it.c.Key] = append(gone[it.c.Key], it.sel)
		}
		if u.held {
			run.count(u.c.Key, u.tenant).RowsHeld = ns[len(ns)-2] - ns[len(ns)-1]
		}
		if err := s.save(ctx, run, nil); err != nil {
			return err
		}
	}
	return nil
}
