package registry

// checkResponses checks that the rows of every collection marked
// responses: true can be told apart by tenant, since a tenant that stops
// collecting responses has its own, and only its own, purged. With
// collect_responses: false at the top of the file every tenant's rows go,
// so no tenant is needed; the rows are then dated by the retention
// timestamp, since no sweep may take a whole table without a cut-off.
func checkResponses(p *problems, r *Registry) {
	for _, key := range sortedKeys(r.Collections) {
		c := r.Collections[key]
		switch {
		case !c.Responses:
		case !r.CollectResponses && (c.Retention == nil || c.Retention.Timestamp == ""):
			p.add([]string{"collections", key, "responses"},
				"collect_responses: false purges the rows dated before each sweep: give the collection a retention timestamp, such as retention: {window: 30d, timestamp: created_at}")
		case r.CollectResponses && !r.TenantScoped(c):
			p.add([]string{"collections", key, "responses"},
				"the collection has no tenant column and references no collection of its store that has one: give it a tenant column, set collect_responses: false at the top of the file (an application without tenants), or remove responses")
		}
	}
}

// TenantScoped reports whether c's rows can be told apart by tenant: c has
// a tenant column, or references a collection of its store that is
// tenant-scoped itself.
func (r *Registry) TenantScoped(c *Collection) bool {
	return r.tenantScoped(c, map[string]bool{})
}

func (r *Registry) tenantScoped(c *Collection, seen map[string]bool) bool {
	if c.Tenant != "" {
		return true
	}
	if seen[c.Key] {
		return false
	}
	seen[c.Key] = true
	for _, ref := range c.References {
		if p := r.Collections[ref.Target]; p != nil && p.Store == c.Store && r.tenantScoped(p, seen) {
			return true
		}
	}
	return false
}

// ResponseCollections returns the collections marked responses: true, in
// erasure order (children first).
func (r *Registry) ResponseCollections() []*Collection {
	var out []*Collection
	for _, c := range r.ErasureOrder() {
		if c.Responses {
			out = append(out, c)
		}
	}
	return out
}
