package engine

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/pkg/connector"
)

// iterator yields a key set in chunks; next returns nil at the end.
type iterator interface {
	next(ctx context.Context) ([]string, error)
}

// frozenIter pages through a key set frozen in the journal.
type frozenIter struct {
	r     *run
	set   string
	after string
	done  bool
}

func (r *run) frozenKeys(set string) func() iterator {
	return func() iterator { return &frozenIter{r: r, set: set} }
}

func (it *frozenIter) next(ctx context.Context) ([]string, error) {
	if it.done {
		return nil, nil
	}
	limit := it.r.e.keyChunk()
	keys, err := it.r.j.FrozenKeys(ctx, it.set, it.after, limit)
	if err != nil {
		return nil, fmt.Errorf("read frozen keys %s: %w", it.set, err)
	}
	if len(keys) < limit {
		it.done = true
	}
	if len(keys) == 0 {
		return nil, nil
	}
	it.after = keys[len(keys)-1]
	return keys, nil
}

// liveIter pages through the distinct values of a column of a row set, read
// from its store pass by pass.
type liveIter struct {
	r      *run
	t      *target
	cols   []string
	passes *passIter
	cur    *connector.Selection
	after  *string
}

// values returns a source of the values of col in t's rows.
func (t *target) values(r *run, col string) func() iterator {
	return func() iterator { return &liveIter{r: r, t: t, cols: []string{col}} }
}

func (it *liveIter) next(ctx context.Context) ([]string, error) {
	if it.passes == nil {
		it.passes = it.t.open(it.r)
	}
	limit := it.r.e.keyChunk()
	for {
		if it.cur == nil {
			sel, ok, err := it.passes.next(ctx)
			if err != nil || !ok {
				return nil, err
			}
			it.cur, it.after = &sel, nil
		}
		vals, err := it.t.store.Values(ctx, *it.cur, it.cols, it.after, limit)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", it.t.c.Key, err)
		}
		if len(vals) < limit {
			it.cur = nil
		} else {
			last := vals[len(vals)-1]
			it.after = &last
		}
		if len(vals) > 0 {
			return vals, nil
		}
	}
}

// passIter splits a target into Selections small enough for one statement:
// the first pass carries the fixed matches and the first chunk of every key
// set, each later pass the next chunk of the key sets not yet exhausted.
// Deletes are safe over any split; a row matched by two chunks of two
// different key sets is counted once per pass.
type passIter struct {
	t    *target
	its  []iterator
	live []bool
	i    int
}

func (t *target) open(r *run) *passIter {
	p := &passIter{t: t}
	for _, l := range t.lits {
		p.its = append(p.its, l.src())
		p.live = append(p.live, true)
	}
	return p
}

// next returns the next pass, ok=false after the last one.
func (p *passIter) next(ctx context.Context) (connector.Selection, bool, error) {
	sel := connector.Selection{Collection: p.t.c, Tenant: p.t.tenant}
	if p.i == 0 {
		sel.Matches = append(sel.Matches, p.t.fixed...)
	}
	any := false
	for k, it := range p.its {
		if !p.live[k] {
			continue
		}
		chunk, err := it.next(ctx)
		if err != nil {
			return sel, false, err
		}
		if chunk == nil {
			p.live[k] = false
			continue
		}
		any = true
		sel.Matches = append(sel.Matches, connector.Match{Columns: p.t.lits[k].columns, Values: chunk, Where: p.t.lits[k].where})
	}
	if p.i > 0 && !any {
		return sel, false, nil
	}
	p.i++
	return sel, true, nil
}

// last reports, without reading, whether the pass next returned was the
// last: every key set it reads is frozen and was read whole.
func (p *passIter) last() bool {
	for k, it := range p.its {
		if f, ok := it.(*frozenIter); p.live[k] && (!ok || !f.done) {
			return false
		}
	}
	return true
}

// eachPass calls do with each of t's passes, from pass from on: a resumed
// step skips the passes it finished.
func (r *run) eachPass(ctx context.Context, t *target, from int, do func(pass int, sel connector.Selection) error) error {
	it := t.open(r)
	for pass := 0; ; pass++ {
		sel, ok, err := it.next(ctx)
		if err != nil || !ok {
			return err
		}
		if pass < from {
			continue
		}
		if err := do(pass, sel); err != nil {
			return err
		}
	}
}

// selections returns every pass of t.
func (t *target) selections(ctx context.Context, r *run) ([]connector.Selection, error) {
	var out []connector.Selection
	err := r.eachPass(ctx, t, 0, func(_ int, sel connector.Selection) error {
		out = append(out, sel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", t.c.Key, err)
	}
	return out, nil
}
