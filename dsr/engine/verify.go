package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// countGroup bounds the selections counted in one statement.
const countGroup = 32

// counted is a selection whose rows count towards key's.
type counted struct {
	key string
	sel connector.Selection
}

// count returns the rows of each target, with one Count call per store
// (per countGroup selections) rather than one per collection.
func (r *run) count(ctx context.Context, targets []*target) (map[string]int64, error) {
	byStore := map[string][]counted{}
	out := map[string]int64{}
	for _, t := range targets {
		out[t.c.Key] = 0
		if t.c.Templates != nil {
			n, err := r.templateCount(ctx, t)
			if err != nil {
				return nil, err
			}
			out[t.c.Key] = n
			continue
		}
		sels, err := t.selections(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, s := range sels {
			byStore[t.c.Store] = append(byStore[t.c.Store], counted{t.c.Key, s})
		}
	}
	n, err := r.countByStore(ctx, byStore)
	for key, v := range n {
		out[key] += v
	}
	return out, err
}

// countByStore counts the rows of the selections of each store, summed by
// key, with one Count call per store (per countGroup selections).
func (r *run) countByStore(ctx context.Context, byStore map[string][]counted) (map[string]int64, error) {
	out := map[string]int64{}
	stores := make([]string, 0, len(byStore))
	for s := range byStore {
		stores = append(stores, s)
	}
	sort.Strings(stores)
	for _, store := range stores {
		items := byStore[store]
		for start := 0; start < len(items); start += countGroup {
			group := items[start:min(start+countGroup, len(items))]
			sels := make([]connector.Selection, len(group))
			for i, it := range group {
				sels[i] = it.sel
			}
			ns, err := r.e.Stores[store].Count(ctx, sels)
			if err != nil {
				return nil, fmt.Errorf("count in store %s: %w", store, err)
			}
			for i, it := range group {
				out[it.key] += ns[i]
			}
		}
	}
	return out, nil
}

// verify walks again from the email and the frozen keys: any row left in a
// collection that erasure deletes, and any anonymised field that still holds
// the email, is reported. Kept collections are not counted.
func (r *run) verify(ctx context.Context) (*dsr.Verification, error) {
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	var deleted []*target
	found := map[string]int64{}
	for _, t := range targets {
		switch {
		case t.c.Templates != nil && t.c.Templates.Verify != nil:
			n, err := r.templateLeft(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("verify %s: %w", t.c.Key, err)
			}
			if n > 0 {
				found[t.c.Key] = n
			}
		case t.c.Templates != nil:
		case t.c.Erasure.Action == registry.ActionDelete:
			deleted = append(deleted, t)
		case t.c.Erasure.Action == registry.ActionAnonymize:
			n, err := r.stillHolding(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("verify %s: %w", t.c.Key, err)
			}
			linked, err := r.stillLinked(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("verify %s: %w", t.c.Key, err)
			}
			if n += linked; n > 0 {
				found[t.c.Key] = n
			}
		}
	}
	counts, err := r.count(ctx, deleted)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	left, err := r.mentionsLeft(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	for key, n := range left {
		counts[key] = n
	}
	for key, n := range counts {
		if n > 0 {
			found[key] = n
		}
	}
	v := &dsr.Verification{Passed: len(found) == 0}
	for _, n := range found {
		v.Remaining += n
	}
	if len(found) > 0 {
		v.Found = found
	}
	return v, nil
}

// stillHolding counts the rows of an anonymised collection in which an
// anonymised field still holds the email, reading the rows in batches.
func (r *run) stillHolding(ctx context.Context, t *target) (int64, error) {
	cols := anonymizedColumns(t.c)
	var n int64
	err := r.eachRow(ctx, t, cols, func(row connector.Row) error {
		if r.email != "" && holdsEmail(t.c, cols, row.Values, r.email) {
			n++
		}
		return nil
	})
	return n, err
}

// eachRow calls fn with each of t's rows, with the columns cols, reading
// them in batches pass by pass.
func (r *run) eachRow(ctx context.Context, t *target, cols []string, fn func(row connector.Row) error) error {
	sels, err := t.selections(ctx, r)
	if err != nil {
		return err
	}
	for _, sel := range sels {
		var after *string
		for {
			rows, err := t.store.Rows(ctx, sel, cols, after, r.e.rowBatch())
			if err != nil {
				return err
			}
			for _, row := range rows {
				if err := fn(row); err != nil {
					return err
				}
			}
			if len(rows) < r.e.rowBatch() {
				break
			}
			last := rows[len(rows)-1].Key
			after = &last
		}
	}
	return nil
}

// stillLinked counts the rows of an anonymised collection still tied to
// the subject through a reference that erasure detaches (sets to null or a
// fixed value): such rows stay, but unlinked; one still linked is left over.
func (r *run) stillLinked(ctx context.Context, t *target) (int64, error) {
	detached := map[string]bool{}
	for _, ref := range t.c.References {
		if t.c.Detaches(ref) {
			detached[ref.Column] = true
		}
	}
	for _, cols := range t.c.Identities { // anonymised, as the registry requires
		for _, col := range cols {
			detached[col] = true
		}
	}
	if len(detached) == 0 {
		return 0, nil
	}
	sels, err := t.selections(ctx, r)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, sel := range sels {
		linked := sel
		linked.Matches = nil
		for _, m := range sel.Matches {
			if m.Email == "" && len(m.Columns) == 1 && detached[m.Columns[0]] {
				linked.Matches = append(linked.Matches, m)
			}
		}
		if len(linked.Matches) == 0 {
			continue
		}
		ns, err := t.store.Count(ctx, []connector.Selection{linked})
		if err != nil {
			return 0, err
		}
		n += ns[0]
	}
	return n, nil
}

// verifyOthers adds to v the objects and redis keys still found through the
// frozen keys, and what Lethe's own stores still hold of the person.
func (r *run) verifyOthers(ctx context.Context, targets []*target, v *dsr.Verification) error {
	found := map[string]int64{}
	if err := r.verifyFiles(ctx, targets, found); err != nil {
		return err
	}
	if err := r.verifyKeys(ctx, targets, found); err != nil {
		return err
	}
	if err := r.verifyCopies(ctx, found); err != nil {
		return err
	}
	for k, n := range found {
		if n == 0 {
			continue
		}
		if v.Found == nil {
			v.Found = map[string]int64{}
		}
		v.Found[k] += n
		v.Remaining += n
		v.Passed = false
	}
	return nil
}
