package retention

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// DefaultResponsesEvery is how often the responses sweep runs unless
// configured otherwise.
const DefaultResponsesEvery = time.Minute

// responseUnits returns the units of a responses run: for each tenant that
// stopped collecting responses, every collection the registry marks as
// responses, children first, with a zero window (every row dated before
// the run's AsOf, or every row of a collection without a timestamp)
// restricted to that tenant's rows. With collect_responses: false in the
// registry there is one unit per collection over every tenant's rows (and
// those of no tenant) dated before AsOf, whatever tenants says; the
// registry requires those collections to have a timestamp. They delete
// like any retention unit: the rows hanging from them in the same store
// and their files go with them, and held rows stay.
func (p *planner) responseUnits(tenants []string) []*unit {
	var out []*unit
	if !p.reg.CollectResponses {
		for _, c := range p.reg.ResponseCollections() {
			if c.Retention == nil || c.Retention.Timestamp == "" {
				continue // refused by the registry; kept safe here
			}
			base := connector.Selection{Collection: c, All: true,
				Older: &connector.Older{Column: c.Retention.Timestamp, Before: p.asOf}}
			out = append(out, p.unit(c, "", base, registry.ActionDelete))
		}
		return out
	}
	for _, t := range tenants {
		for _, c := range p.reg.ResponseCollections() {
			scope := connector.InTenant(p.reg, c, t)
			if scope == nil {
				continue // refused by the registry; kept safe here
			}
			base := *scope
			if c.Retention != nil && c.Retention.Timestamp != "" {
				base.Older = &connector.Older{Column: c.Retention.Timestamp, Before: p.asOf}
			}
			u := p.unit(c, t, base, registry.ActionDelete)
			u.noRange = true
			out = append(out, u)
		}
	}
	return out
}

// RunResponses runs the responses sweep: the collections marked responses
// in the registry are purged for every tenant whose CollectResponses is
// false (Settings.NotCollecting), or for all rows when the registry says
// collect_responses: false, as a run of KindResponses. It records a run
// only when there is something to purge: it returns nil and no error when
// nobody stopped collecting or none of their responses are left
// (held rows do not count). Errors are Run's; ECONFLICT with a nil run
// while another responses run is active.
func (s *Sweeper) RunResponses(ctx context.Context, o Options) (*Run, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	tenants, err := s.Settings.NotCollecting(ctx)
	if err != nil {
		return nil, fmt.Errorf("read tenant settings: %w", err)
	}
	if len(tenants) == 0 && s.Registry.CollectResponses {
		return nil, nil
	}
	p, err := s.plan(ctx, s.now())
	if err != nil {
		return nil, err
	}
	left := false
	for _, u := range p.responseUnits(tenants) {
		sels := []connector.Selection{u.self}
		for _, ph := range u.cascades {
			sels = append(sels, ph.sel)
		}
		ns, err := s.Stores[u.c.Store].Count(ctx, sels)
		if err != nil {
			return nil, &stepError{where: "count " + u.c.Key, err: err}
		}
		for _, n := range ns {
			left = left || n > 0
		}
		if left {
			break
		}
	}
	if !left {
		return nil, nil
	}
	o.Kind = KindResponses
	o.Trigger = cmp.Or(o.Trigger, TriggerSchedule)
	return s.Run(ctx, o)
}
