package engine

import (
	"context"
	"encoding/json"
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

// progress is a running erase step's Detail: the pass to resume and, when
// Pending is set, how many rows the batch journaled before its write
// selected. The keys (the last rewritten, the pending batch's) are the
// step's Cursor, never its Detail: a key may be an email (a collection
// whose primary key is the address).
type progress struct {
	Pass    int `json:"pass"`
	Pending int `json:"pending,omitempty"`
	// After is read from steps journaled before cursors were kept apart.
	After *string `json:"after,omitempty"`
}

// pending is the Cursor of a step whose batch was journaled before its
// write: where the batch starts (anonymise) and its keys.
type pending struct {
	After *string  `json:"after,omitempty"`
	Keys  []string `json:"keys"`
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
	counts, kept, files := map[string]int64{}, map[string]any{}, map[string]fileTally{}
	for i := len(targets) - 1; i >= 0; i-- { // children first
		t := targets[i]
		name := "erase " + t.c.Key
		var n int64
		switch {
		case t.c.Templates != nil && t.c.Erasure.Action != registry.ActionKeep:
			n, err = r.eraseTemplate(ctx, t, name, steps[name])
		case t.c.Erasure.Action == registry.ActionDelete:
			n, err = r.deleteAll(ctx, t, name, steps[name])
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
	if err := r.j.SaveStep(ctx, dsr.Step{Name: stepVerify, Status: map[bool]string{true: "passed", false: "failed"}[v.Passed],
		Count: v.Remaining, Detail: string(detail)}); err != nil {
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

// deleteAll deletes t's rows in batches, pass by pass (see eraseRows).
func (r *run) deleteAll(ctx context.Context, t *target, name string, prev dsr.Step) (int64, error) {
	return r.eraseRows(ctx, t, name, prev, r.e.batchSize(), false, func(ctx context.Context, sel connector.Selection, _ *string, limit int) (int64, string, error) {
		n, err := t.store.Delete(ctx, sel, limit)
		return n, "", err
	})
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
	return r.eraseRows(ctx, t, name, prev, r.e.rowBatch(), true, func(ctx context.Context, sel connector.Selection, after *string, limit int) (int64, string, error) {
		return t.store.Anonymize(ctx, sel, an, after, limit)
	})
}

// eraseRows runs step name over t's rows, pass by pass, in batches of size
// rows at first (see batch.Loop): op deletes or rewrites up to limit rows
// of sel after the key after (nil: from the first; always for a delete,
// rewrite false) and says how many and the last key it rewrote. Each batch is written
// ahead: its keys are read and journaled as pending (with the count so
// far, which also records the batch before it as done), then the batch is
// written restricted to those keys. A run killed between a batch's write
// and the next journal entry finds the batch pending, writes it again over
// the same keys (rows already deleted or rewritten change nothing) and
// counts it as journaled, once: the certificate states the same counts as
// an uninterrupted run. One journal write per batch, as before, plus one
// read of the batch's keys; a batch holds at most a key chunk of rows, so
// that its keys fit one statement's parameters. A done step is skipped.
func (r *run) eraseRows(ctx context.Context, t *target, name string, prev dsr.Step, size int, rewrite bool,
	op func(ctx context.Context, sel connector.Selection, after *string, limit int) (int64, string, error)) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	// A batch's keys are one key set of a statement and one journal entry.
	size = min(size, r.e.keyChunk())
	var at progress
	total := resume(prev, &at)
	var ahead *pending
	switch {
	case prev.Status != stepRunning:
	case at.Pending > 0:
		ahead = &pending{}
		if err := json.Unmarshal([]byte(prev.Cursor), ahead); err != nil {
			ahead = nil // written before batches were journaled ahead
		}
	case prev.Cursor != "":
		at.After = &prev.Cursor
	}
	err := r.eachPass(ctx, t, at.Pass, func(pass int, sel connector.Selection) error {
		after := at.After
		if pass > at.Pass {
			after = nil
		}
		if ahead != nil && pass == at.Pass {
			if err := r.writeBatch(ctx, sel, ahead, op); err != nil {
				return err
			}
			total += int64(at.Pending)
			after = ahead.next(rewrite)
		}
		return r.e.loop(size).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
			rows, err := t.store.Rows(bctx, sel, nil, after, b.Size)
			if err != nil || len(rows) == 0 {
				return err
			}
			p := &pending{After: after, Keys: make([]string, len(rows))}
			for i, row := range rows {
				p.Keys[i] = row.Key
			}
			if err := r.save(ctx, name, stepRunning, total, progress{Pass: pass, Pending: len(rows)}, p); err != nil {
				return err
			}
			if err := r.writeBatch(bctx, sel, p, op); err != nil {
				return err
			}
			b.N, total, after = int64(len(rows)), total+int64(len(rows)), p.next(rewrite)
			return nil
		})
	})
	if err != nil {
		return total, err
	}
	return total, r.save(ctx, name, stepDone, total, progress{}, nil)
}

// writeBatch runs op over the rows of sel whose keys p journaled.
func (r *run) writeBatch(ctx context.Context, sel connector.Selection, p *pending,
	op func(ctx context.Context, sel connector.Selection, after *string, limit int) (int64, string, error)) error {
	sel.Keys = p.Keys
	_, _, err := op(ctx, sel, p.After, len(p.Keys))
	return err
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

// next returns where the batch after p starts: after p's last key for a
// rewrite, from the first row again for a delete (its rows are gone).
func (p *pending) next(rewrite bool) *string {
	if !rewrite || len(p.Keys) == 0 {
		return nil
	}
	return &p.Keys[len(p.Keys)-1]
}

// save journals a step; p, when set, is the batch a running step writes
// next, whose keys are its Cursor.
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
