package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Step statuses the engine journals.
const (
	stepRunning = "running"
	stepDone    = "done"
	stepKept    = "kept"
	stepVerify  = "verify"
)

// progress is a running erase step's Detail: the pass to resume and the
// batch journaled ahead of its write, as a SQL delete counts it (Left: the
// rows its pass still selected) or as a window (Pending: the rows the
// store read, after and through the keys of the step's Cursor). Keys are
// never in the Detail: a key may be an email (a collection whose primary
// key is the address).
type progress struct {
	Pass    int    `json:"pass"`
	Left    *int64 `json:"left,omitempty"`
	Pending int64  `json:"pending,omitempty"`
	// After is read from steps journaled before cursors were kept apart.
	After *string `json:"after,omitempty"`
}

// pending is the Cursor of a running step journaled by windows (see
// eraseRows): the batch it journaled before writing it, the rows of its
// pass after the key After (from the first when nil) through the key Last.
// A step journaled before batches were journaled ahead has a plain key as
// its Cursor, and no Pending.
type pending struct {
	After *string `json:"after,omitempty"`
	Last  string  `json:"last"`
}

// erase runs an erasure: freeze, check every file reference (see
// checkFiles), replace the person's mentions in other people's rows,
// erase children first (each collection's
// files right after its rows), then the redis keys, verify rows, files and
// keys, and notify the processors.
func (r *run) erase(ctx context.Context) (*dsr.Outcome, error) {
	list, err := r.j.Steps(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	steps := stepsByName(list)
	if err := r.enrich(ctx, steps); err != nil {
		return nil, err
	}
	if _, err := r.freeze(ctx, steps); err != nil {
		return nil, err
	}
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.checkFiles(ctx, targets, steps); err != nil {
		return nil, err
	}
	// Mentions first: an erasure that fails in them leaves the person's
	// rows, and the names in them, for a new request to find again.
	mentions, err := r.eraseMentions(ctx, steps)
	if err != nil {
		return nil, err
	}
	groups, err := r.groups(ctx, targets, steps)
	if err != nil {
		return nil, err
	}
	left, err := r.firstLeft(ctx, targets, steps, groups)
	if err != nil {
		return nil, err
	}
	counts, kept, files := map[string]int64{}, map[string]any{}, map[string]fileTally{}
	for i := len(targets) - 1; i >= 0; i-- { // children first
		t := targets[i]
		name := "erase " + t.c.Key
		if g := groups[i]; g != nil {
			rest, err := r.deleteAtOnce(ctx, g, steps)
			if err != nil {
				return nil, err
			}
			if rest != nil {
				groups[i-1] = rest
			}
		}
		var n int64
		switch {
		case t.c.Templates != nil && t.c.Erasure.Action != registry.ActionKeep:
			n, err = r.eraseTemplate(ctx, t, name, steps[name])
		case t.c.Erasure.Action == registry.ActionDelete:
			// Another step follows (another collection's, or the
			// verification's), and none of t's files' before it.
			later := len(fileColumns(t)) == 0
			n, err = r.deleteAll(ctx, t, name, steps[name], left[t.c.Key], later)
		case t.c.Erasure.Action == registry.ActionAnonymize:
			n, err = r.anonymizeAll(ctx, t, name, steps[name])
		case t.c.Erasure.Action == registry.ActionKeep:
			if n, err = r.keep(ctx, t, name, steps[name]); err != nil {
				return nil, fmt.Errorf("erase %s: %w", t.c.Key, err)
			}
			kept[t.c.Key] = map[string]any{"rows": n, "reason": t.c.Erasure.KeepReason}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("erase %s: %w", t.c.Key, err)
		}
		counts[t.c.Key] = n
		if err := r.eraseFiles(ctx, t, steps, counts, files); err != nil { // after the rows' step
			return nil, err
		}
	}
	if err := r.eraseKeys(ctx, targets, steps, counts); err != nil {
		return nil, err
	}
	if err := r.eraseCopies(ctx, counts); err != nil {
		return nil, err
	}
	v, err := r.verify(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.verifyOthers(ctx, targets, v); err != nil {
		return nil, err
	}
	detail, _ := json.Marshal(v)
	// Later: the next step (a processor's) or the request's end stores it
	// (see dsr.Flusher); a run killed before redoes the verification.
	if err := r.j.SaveStep(ctx, dsr.Step{Name: stepVerify, Status: map[bool]string{true: "passed", false: "failed"}[v.Passed],
		Count: v.Remaining, Detail: string(detail), Later: true}); err != nil {
		return nil, fmt.Errorf("journal verification: %w", err)
	}
	details := map[string]any{"registry_version": r.reg.Version(), "tenant_scoped": r.tenant != ""}
	if len(kept) > 0 {
		details["kept"] = kept
	}
	if len(mentions) > 0 {
		details["mentions"] = mentions
	}
	if len(files) > 0 {
		details["files"] = files
		var refused int64
		for _, f := range files {
			refused += f.Refused
		}
		if refused > 0 {
			details["files_refused"] = refused
		}
	}
	if err := r.notify(ctx, steps, counts, details); err != nil {
		return nil, err
	}
	return &dsr.Outcome{Counts: counts, Verification: v, Details: details}, nil
}

// deleteAll deletes t's rows in batches, pass by pass: on a store that
// reads a batch's keys before deleting them, journaled ahead as windows
// (see readsBatches, eraseRows). Elsewhere each batch is journaled ahead of
// its delete, in the entry that also records the batch before it as done: the rows its pass still selects (left, counted when
// the pass starts, from first for the first pass when given, and less
// each batch's deletes since). A run killed between a batch's delete and
// the next entry counts, on resume, the rows of the pass gone since that
// entry (left then, less the pass's count now) as the batch's, once, so
// that the certificate states the counts of an uninterrupted run. Rows the
// application itself deletes or adds in the pass meanwhile would be
// counted with it, or against it; that is the only error left. A step a
// group journaled running from inside its transaction (see deleteAtOnce)
// resumes the same way, its Left the rows the group's delete took. No journal
// entry is added: one per batch, and one when the step is done. A done
// step is skipped.
func (r *run) deleteAll(ctx context.Context, t *target, name string, prev dsr.Step, first *int64, later bool) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	if readsBatches(r.reg, t.c) {
		return r.eraseRows(ctx, t, name, prev, r.e.batchSize(), false, func(ctx context.Context, sel connector.Selection, _ *string, limit int, ahead connector.Ahead) (int64, string, error) {
			n, err := t.store.Delete(ctx, sel, limit, ahead)
			return n, "", err
		})
	}
	var at progress
	total := resume(prev, &at)
	err := r.eachPass(ctx, t, at.Pass, func(pass int, sel connector.Selection) error {
		var left int64
		// A first pass counted before any collection was erased is
		// trusted when it found rows; one that found none is counted
		// again, since the application may have written some since
		// (a new session or message), and a pass that skipped them would
		// fail verification.
		if pass == 0 && prev.Status == "" && first != nil && *first > 0 {
			left = *first
		} else {
			ns, err := t.store.Count(ctx, []connector.Selection{sel})
			if err != nil {
				return err
			}
			left = ns[0]
		}
		if pass == at.Pass && at.Left != nil {
			total += max(*at.Left-left, 0)
		}
		if left == 0 {
			return nil
		}
		return r.e.loop(r.e.batchSize()).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
			if left > 0 {
				if err := r.save(ctx, name, stepRunning, total, progress{Pass: pass, Left: &left}, nil); err != nil {
					return err
				}
			}
			if err := r.synced(ctx); err != nil {
				return err
			}
			n, err := t.store.Delete(bctx, sel, b.Size, nil)
			if err != nil || n == 0 {
				return err
			}
			b.N, total, left = n, total+n, max(left-n, 0)
			return nil
		})
	})
	if err != nil {
		return total, err
	}
	// Later, the journal may hold the done step for the next one: until
	// then, a resumed run counts the last batch from the entry that
	// journaled it ahead, as after a kill between a batch and its entry.
	if err := r.j.SaveStep(ctx, dsr.Step{Name: name, Status: stepDone, Count: total, Later: later}); err != nil {
		return total, fmt.Errorf("journal step %q: %w", name, err)
	}
	return total, nil
}

// group is a run of collections deleted in one transaction of their store
// (see deleteAtOnce): next to one another in the order of deletes, the
// next one first, with the selection of each one's single pass.
type group struct {
	store connector.GroupDeleter
	run   []*target
	sels  []connector.Selection
}

// groups plans the groups of targets, each under the index of its first
// collection (the one deleted first): from the last target back, the
// collections in a row on one store, each on a table of its own, that may
// be deleted at once (see atOnce) and are one pass of frozen keys, two or
// more. It reads no row: the number of each one's rows is the
// transaction's to find (see deleteAtOnce).
func (r *run) groups(ctx context.Context, targets []*target, steps map[string]dsr.Step) (map[int]*group, error) {
	out := map[int]*group{}
	for i := len(targets) - 1; i >= 0; {
		g := &group{}
		tables := map[string]bool{}
		for j := i; j >= 0; j-- {
			t := targets[j]
			gd, ok := t.store.(connector.GroupDeleter)
			if !ok || (len(g.run) > 0 && t.c.Store != g.run[0].c.Store) || tables[t.c.Table] || !r.atOnce(t, steps) {
				break
			}
			p := t.open(r)
			sel, ok, err := p.next(ctx)
			if err != nil {
				return nil, fmt.Errorf("walk %s: %w", t.c.Key, err)
			}
			if !ok || !p.last() {
				break
			}
			g.store, g.run, g.sels = gd, append(g.run, t), append(g.sels, sel)
			tables[t.c.Table] = true
		}
		if len(g.run) < 2 {
			i--
			continue
		}
		out[i] = g
		i -= len(g.run)
	}
	return out, nil
}

// deleteAtOnce deletes g's collections in one transaction of their store
// (see connector.GroupDeleter), with no count before: inside the
// transaction, once every delete is done and none took a whole batch, each
// is journaled running as its first batch in deleteAll would be, Left the
// rows its delete just took, in one entry (the steps but the last saved
// Later), durably, before the transaction commits; a journal that fails
// (or whose request was taken over) takes the deletes back. A run killed
// after that entry, before or after the commit, resumes in deleteAll,
// which counts the rows gone since the entry as the step's: all of them if
// the transaction committed, none if not (they are then deleted, and
// counted, again). The done steps are saved Later, for the next entry.
// On a request's first run the entry carries the freeze step too, held
// since the keys were frozen (see synced): one durable statement of the
// state store stores the enrichment, the snapshot, the frozen keys, the
// freeze step and the steps running, then the store's transaction
// commits.
// A group is for a small subject: each of its deletes takes at most
// GroupRows rows (or a batch, if smaller). Nothing is counted before it, so
// a subject with millions of rows in one pass comes here first; the bound
// is what its rolled-back try costs.
// Should one of them take that many, its parents' deletes would go
// before the rest of its rows: the store takes the transaction back
// (connector.ErrGroupFull), having journaled nothing; the first
// collection is left to deleteAll, which counts its rows before its first
// batch, and the rest, two or more, are returned as the group to try when
// their turn comes (one of them may be the one that took the batch).
// Any other error of the transaction fails this attempt of the request,
// which is retried from the journal.
func (r *run) deleteAtOnce(ctx context.Context, g *group, steps map[string]dsr.Step) (*group, error) {
	ahead := func(ns []int64) error {
		for i, t := range g.run {
			b, _ := json.Marshal(progress{Left: &ns[i]})
			s := dsr.Step{Name: "erase " + t.c.Key, Status: stepRunning, Detail: string(b), Later: i < len(g.run)-1}
			if err := r.j.SaveStep(ctx, s); err != nil {
				return fmt.Errorf("journal step %q: %w", s.Name, err)
			}
		}
		// The last entry carried what the journal held: the freeze step
		// too, on a request's first run, durably.
		return r.synced(ctx)
	}
	dctx, cancel := context.WithTimeout(ctx, cmp.Or(r.e.BatchTimeout, DefaultBatchTimeout))
	defer cancel()
	ns, err := g.store.DeleteEach(dctx, g.sels, min(r.e.batchSize(), GroupRows), ahead)
	if errors.Is(err, connector.ErrGroupFull) {
		if len(g.run) > 2 {
			return &group{store: g.store, run: g.run[1:], sels: g.sels[1:]}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("erase %s: %w", g.run[0].c.Key, err)
	}
	for i, n := range ns {
		name := "erase " + g.run[i].c.Key
		s := dsr.Step{Name: name, Status: stepDone, Count: n, Later: true}
		if err := r.j.SaveStep(ctx, s); err != nil {
			return nil, fmt.Errorf("journal step %q: %w", name, err)
		}
		steps[name] = s
	}
	return nil, nil
}

// atOnce reports whether t may be deleted with others in one transaction
// (see deleteAtOnce): rows deleted by SQL with no files of theirs, and a
// step not started.
func (r *run) atOnce(t *target, steps map[string]dsr.Step) bool {
	return t.c.Templates == nil && t.c.Erasure.Action == registry.ActionDelete && !readsBatches(r.reg, t.c) &&
		len(fileColumns(t)) == 0 && steps["erase "+t.c.Key].Status == ""
}

// firstLeft counts the rows of the first pass of every collection to
// delete whose step has not started, but those of groups (deleted at once,
// see deleteAtOnce), one Count call per store (see countByStore): what
// the first batch of each journals ahead (see deleteAll). Counted before
// the first delete, since children go first and a collection's rows hang
// from its parents, still there when its step comes.
func (r *run) firstLeft(ctx context.Context, targets []*target, steps map[string]dsr.Step, groups map[int]*group) (map[string]*int64, error) {
	grouped := map[string]bool{}
	for _, g := range groups {
		for _, t := range g.run {
			grouped[t.c.Key] = true
		}
	}
	byStore := map[string][]counted{}
	for _, t := range targets {
		if t.c.Templates != nil || t.c.Erasure.Action != registry.ActionDelete || readsBatches(r.reg, t.c) || steps["erase "+t.c.Key].Status != "" || grouped[t.c.Key] {
			continue
		}
		sel, ok, err := t.open(r).next(ctx)
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", t.c.Key, err)
		}
		if ok {
			byStore[t.c.Store] = append(byStore[t.c.Store], counted{t.c.Key, sel})
		}
	}
	n, err := r.countByStore(ctx, byStore)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*int64, len(n))
	for key, v := range n {
		out[key] = &v
	}
	return out, nil
}

// readsBatches reports whether c's store reads a batch's keys before it
// deletes them (MongoDB has no DELETE … LIMIT), and so tells them ahead at
// no cost; a SQL store deletes a batch in one statement, and reading it
// first would about double a batch's time.
func readsBatches(reg *registry.Registry, c *registry.Collection) bool {
	return reg.Stores[c.Store].Kind == registry.KindMongo
}

// anonymizeAll rewrites t's rows in primary-key order, batch by batch
// (see eraseRows).
func (r *run) anonymizeAll(ctx context.Context, t *target, name string, prev dsr.Step) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	an, err := r.anonymization(t.c)
	if err != nil {
		return 0, err
	}
	return r.eraseRows(ctx, t, name, prev, r.e.rowBatch(), true, func(ctx context.Context, sel connector.Selection, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
		return t.store.Anonymize(ctx, sel, an, after, limit, ahead)
	})
}

// eraseRows runs step name over t's rows, pass by pass, in batches of size
// rows at first (see batch.Loop): op deletes or rewrites up to limit rows
// of sel after the key after (nil: from the first; always for a delete,
// rewrite false), in primary-key order, tells ahead which rows before it
// writes them (see connector.Ahead), and says how many it wrote and the
// last key.
//
// Each batch is journaled ahead of its write, in the entry that also
// records the batch before it as done: its pass, where it starts, its last
// key and how many rows it holds. A run killed between a batch's write and
// the next entry finds the batch pending: it writes what is left of it
// (its rows still selected, through its last key; rows deleted, or taken
// out of the selection by their rewrite, are not found, others are
// rewritten again, as a resumed batch always was) and counts it as
// journaled, once, so that the certificate states the counts of an
// uninterrupted run, the application's own changes to those rows
// meanwhile aside. No journal entry is added: one per batch, and one when
// the step is done. The caller skips a done step.
func (r *run) eraseRows(ctx context.Context, t *target, name string, prev dsr.Step, size int, rewrite bool,
	op func(ctx context.Context, sel connector.Selection, after *string, limit int, ahead connector.Ahead) (int64, string, error)) (int64, error) {
	var at progress
	total := resume(prev, &at)
	var ahead *pending
	switch {
	case prev.Status != stepRunning:
	case at.Pending > 0:
		ahead = &pending{}
		if err := json.Unmarshal([]byte(prev.Cursor), ahead); err != nil {
			return 0, fmt.Errorf("read the journal of %s: %w", name, err)
		}
		at.After = ahead.After
	case prev.Cursor != "":
		at.After = &prev.Cursor
	}
	err := r.eachPass(ctx, t, at.Pass, func(pass int, sel connector.Selection) error {
		after := at.After
		if pass > at.Pass {
			after = nil
		}
		if ahead != nil && pass == at.Pass {
			if err := r.synced(ctx); err != nil {
				return err
			}
			rest := sel
			rest.Through = &ahead.Last
			if _, _, err := op(ctx, rest, after, int(at.Pending), nil); err != nil {
				return err
			}
			total += at.Pending
			if rewrite {
				after = &ahead.Last
			}
		}
		return r.e.loop(size).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
			from := after
			// The store tells the batch ahead before it writes it; the
			// entry that journals it carries the freeze step when held.
			n, last, err := op(bctx, sel, from, b.Size, func(last string, n int64) error {
				if err := r.save(ctx, name, stepRunning, total, progress{Pass: pass, Pending: n}, &pending{After: from, Last: last}); err != nil {
					return err
				}
				return r.synced(ctx)
			})
			if err != nil || n == 0 {
				return err
			}
			b.N, total = n, total+n
			if rewrite {
				after = &last
			}
			return nil
		})
	})
	if err != nil {
		return total, err
	}
	return total, r.save(ctx, name, stepDone, total, progress{}, nil)
}

// keep counts the rows kept for their legal reason and journals them once.
func (r *run) keep(ctx context.Context, t *target, name string, prev dsr.Step) (int64, error) {
	if prev.Status == stepKept {
		return prev.Count, nil
	}
	counts, err := r.count(ctx, []*target{t})
	if err != nil {
		return 0, err
	}
	n := counts[t.c.Key]
	return n, r.j.SaveStep(ctx, dsr.Step{Name: name, Status: stepKept, Count: n, Detail: t.c.Erasure.KeepReason})
}

// resume reads a running step's count and progress.
func resume(prev dsr.Step, at *progress) int64 {
	if prev.Status != stepRunning {
		return 0
	}
	if err := json.Unmarshal([]byte(prev.Detail), at); err != nil {
		*at = progress{}
	}
	return prev.Count
}

// save journals a step; p, when set, is the batch a running step writes
// next, its Cursor.
func (r *run) save(ctx context.Context, name, status string, n int64, at progress, p *pending) error {
	s := dsr.Step{Name: name, Status: status, Count: n}
	if status == stepRunning {
		b, _ := json.Marshal(at)
		s.Detail = string(b)
		if p != nil {
			c, _ := json.Marshal(p)
			s.Cursor = string(c)
		}
	}
	if err := r.j.SaveStep(ctx, s); err != nil {
		return fmt.Errorf("journal step %q: %w", name, err)
	}
	return nil
}
