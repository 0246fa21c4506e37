package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// redisStores returns the registry's redis stores, sorted by name.
func (r *run) redisStores() []*registry.Store {
	var out []*registry.Store
	for _, name := range sortedStores(r.reg) {
		if st := r.reg.Stores[name]; st.Kind == registry.KindRedis {
			out = append(out, st)
		}
	}
	return out
}

// placeholders returns the collection placeholders of every redis key
// template ("<store>.<collection>.<column>"), without duplicates.
func (r *run) placeholders() []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range r.redisStores() {
		for _, tpl := range st.Keys {
			for _, p := range parseTemplate(tpl) {
				if p.name != "" && p.name != "email" && !seen[p.name] {
					seen[p.name] = true
					out = append(out, p.name)
				}
			}
		}
	}
	return out
}

// keyPatterns fills the key templates of st with the subject's values: the
// email, and the values of the named columns in the subject's rows, read
// from the frozen sets (erasure) or live (access). A template whose
// placeholder has no value yields nothing. A tenant-scoped request fills
// only templates whose collections it reaches: {email} and collections
// without a tenant belong to no tenant.
func (r *run) keyPatterns(ctx context.Context, st *registry.Store, targets []*target, frozen bool) ([]KeyPattern, error) {
	byKey := map[string]*target{}
	for _, t := range targets {
		byKey[t.c.Key] = t
	}
	var out []KeyPattern
	for _, tpl := range st.Keys {
		parts := parseTemplate(tpl)
		values := map[string][]string{}
		for _, p := range parts {
			if p.name == "" || values[p.name] != nil {
				continue
			}
			vals, err := r.placeholderValues(ctx, p.name, byKey, frozen)
			if err != nil {
				return nil, fmt.Errorf("fill key template of store %s: %w", st.Name, err)
			}
			values[p.name] = vals
		}
		out = append(out, fillTemplate(parts, values)...)
	}
	return out, nil
}

func (r *run) placeholderValues(ctx context.Context, name string, byKey map[string]*target, frozen bool) ([]string, error) {
	if name == "email" {
		if r.tenant != "" || r.email == "" {
			return []string{}, nil
		}
		vals := []string{r.email}
		if l := strings.ToLower(r.email); l != r.email {
			vals = append(vals, l)
		}
		return vals, nil
	}
	dot := strings.LastIndexByte(name, '.')
	t := byKey[name[:dot]]
	if t == nil {
		return []string{}, nil
	}
	src := t.values(r, name[dot+1:])
	if frozen {
		src = r.frozenKeys(keySet(name))
	}
	vals := []string{}
	it := src()
	for {
		chunk, err := it.next(ctx)
		if err != nil {
			return nil, err
		} else if chunk == nil {
			return vals, nil
		}
		if vals = append(vals, chunk...); len(vals) > r.e.maxInline() {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "key template value {%s}: more than %d values; raise the engine's MaxInline", name, r.e.maxInline())
		}
	}
}

// eraseKeys removes every key the templates of the redis stores match. It
// is idempotent: a resumed run scans again and deletes what is left.
func (r *run) eraseKeys(ctx context.Context, targets []*target, steps map[string]dsr.Step, counts map[string]int64) error {
	for _, st := range r.redisStores() {
		name := "keys " + st.Name
		prev := steps[name]
		if prev.Status == stepDone {
			counts[st.Name+".keys"] += prev.Count
			continue
		}
		pats, err := r.keyPatterns(ctx, st, targets, true)
		if err != nil {
			return err
		}
		ks := r.e.KeyStores[st.Name]
		n := prev.Count
		for _, p := range pats {
			err := ks.Scan(ctx, p, func(keys []string) error {
				if err := r.synced(ctx); err != nil {
					return err
				}
				d, err := ks.Delete(ctx, keys)
				n += d
				return err
			})
			if err != nil {
				return fmt.Errorf("erase keys of store %s: %w", st.Name, err)
			}
		}
		if err := r.save(ctx, name, stepDone, n, progress{}, nil); err != nil {
			return err
		}
		counts[st.Name+".keys"] += n
	}
	return nil
}

// verifyKeys counts the keys the templates still match, under "<store>.keys".
func (r *run) verifyKeys(ctx context.Context, targets []*target, found map[string]int64) error {
	for _, st := range r.redisStores() {
		pats, err := r.keyPatterns(ctx, st, targets, true)
		if err != nil {
			return err
		}
		for _, p := range pats {
			err := r.e.KeyStores[st.Name].Scan(ctx, p, func(keys []string) error {
				found[st.Name+".keys"] += int64(len(keys))
				return nil
			})
			if err != nil {
				return fmt.Errorf("verify keys of store %s: %w", st.Name, err)
			}
		}
	}
	return nil
}
