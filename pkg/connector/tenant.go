package connector

import "github.com/lethe-privacy/lethe/pkg/registry"

// InTenant selects the rows of c that belong to tenant: by c's tenant
// column, or through its references to collections of its store that have
// one (registry.TenantScoped). nil when c's rows cannot be told apart by
// tenant.
func InTenant(reg *registry.Registry, c *registry.Collection, tenant string) *Selection {
	if c.Tenant != "" {
		return &Selection{Collection: c, All: true, Tenant: tenant}
	}
	sel := Selection{Collection: c}
	for _, ref := range c.References {
		p := reg.Collections[ref.Target]
		if p == nil || p.Store != c.Store {
			continue
		}
		if ps := InTenant(reg, p, tenant); ps != nil {
			sel.Matches = append(sel.Matches, Match{Columns: []string{ref.Column}, Parent: ps, ParentColumn: ref.TargetColumn, Where: ref.Where})
		}
	}
	if len(sel.Matches) == 0 {
		return nil
	}
	return &sel
}
