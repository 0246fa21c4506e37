package registry

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// checkGraph resolves references, rejects cycles and unreachable
// collections, and computes the parents-first order.
func checkGraph(p *problems, r *Registry) {
	for _, key := range sortedKeys(r.Collections) {
		c := r.Collections[key]
		for _, name := range append([]string{c.Table}, c.Columns()...) {
			// gorm reads '?' as a parameter even inside a quoted identifier.
			if name == "" || strings.ContainsAny(name, "?\x00") {
				p.add([]string{"collections", key}, "%q is not a usable table or column name: it is empty or holds '?' or NUL", name)
			}
		}
		valid := c.References[:0]
		for _, ref := range c.References {
			at := []string{"collections", key, "references", ref.Column}
			t := r.Collections[ref.Target]
			switch {
			case t == nil:
				p.add(at, "unknown collection %q: declare it under collections or fix the name", ref.Target)
				continue
			case !slices.Contains(t.Columns(), ref.TargetColumn):
				p.add(at, "%s has no column %q in the registry: reference its primary key (%s) or declare the column under its categories",
					t.Key, ref.TargetColumn, strings.Join(t.PrimaryKey, ", "))
				continue
			}
			valid = append(valid, ref)
		}
		c.References = valid
	}
	order, cycle := topoOrder(r)
	if cycle != nil {
		first := r.Collections[cycle[0]]
		for _, ref := range first.References {
			if ref.Target == cycle[1] {
				p.add([]string{"collections", first.Key, "references", ref.Column},
					"reference cycle %s: remove one of these references (erasure needs an order)", strings.Join(cycle, " → "))
				break
			}
		}
		return
	}
	r.order = order
	reach := map[string]bool{}
	for _, c := range order {
		reach[c.Key] = c.Identity() || c.Templates != nil
		for _, ref := range c.References {
			reach[c.Key] = reach[c.Key] || reach[ref.Target]
		}
		if !reach[c.Key] {
			p.add([]string{"collections", c.Key}, "no identity reaches this collection: give it identity: {email: <column>} or a reference to a collection that an identity reaches")
		}
	}
}

// topoOrder returns the collections parents first, or a cycle as a list of
// keys whose first and last elements are equal.
func topoOrder(r *Registry) ([]*Collection, []string) {
	indeg := map[string]int{}
	for key, c := range r.Collections {
		indeg[key] += 0
		for range c.References {
			indeg[key]++
		}
	}
	children := map[string][]string{}
	for key, c := range r.Collections {
		for _, ref := range c.References {
			children[ref.Target] = append(children[ref.Target], key)
		}
	}
	var ready, out []string
	for key, n := range indeg {
		if n == 0 {
			ready = append(ready, key)
		}
	}
	sort.Strings(ready)
	for len(ready) > 0 {
		key := ready[0]
		ready = ready[1:]
		out = append(out, key)
		for _, ch := range children[key] {
			if indeg[ch]--; indeg[ch] == 0 {
				ready = append(ready, ch)
				sort.Strings(ready)
			}
		}
	}
	if len(out) < len(r.Collections) {
		return nil, findCycle(r, indeg)
	}
	cols := make([]*Collection, len(out))
	for i, key := range out {
		cols[i] = r.Collections[key]
	}
	return cols, nil
}

// findCycle follows references among the collections left with a positive
// in-degree until one repeats.
func findCycle(r *Registry, indeg map[string]int) []string {
	var start string
	for _, key := range sortedKeys(indeg) {
		if indeg[key] > 0 {
			start = key
			break
		}
	}
	seen := map[string]int{}
	var path []string
	for key := start; ; {
		if i, ok := seen[key]; ok {
			return append(path[i:], key)
		}
		seen[key] = len(path)
		path = append(path, key)
		next := ""
		for _, ref := range r.Collections[key].References {
			if indeg[ref.Target] > 0 {
				next = ref.Target
				break
			}
		}
		if next == "" {
			return append(path, key)
		}
		key = next
	}
}

var templateRE = regexp.MustCompile(`\{([^{}]*)\}`)

// checkRedisKeys checks that key templates name {email} or a column of a
// collection, as {store.collection.column}.
func checkRedisKeys(p *problems, r *Registry) {
	for _, name := range sortedKeys(r.Stores) {
		s := r.Stores[name]
		for i, tpl := range s.Keys {
			for _, m := range templateRE.FindAllStringSubmatch(tpl, -1) {
				if m[1] == "email" {
					continue
				}
				at := []string{"stores", name, "keys", itoa(i)}
				dot := strings.LastIndexByte(m[1], '.')
				c := r.Collections[m[1][:max(dot, 0)]]
				if dot < 0 || c == nil {
					p.add(at, "{%s} names no collection: use {email} or {<store>.<collection>.<column>}", m[1])
				} else if !slices.Contains(c.Columns(), m[1][dot+1:]) {
					p.add(at, "{%s}: %s has no column %q in the registry", m[1], c.Key, m[1][dot+1:])
				}
			}
		}
	}
}
