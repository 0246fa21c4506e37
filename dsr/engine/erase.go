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

// progress is a running erase step's Detail: the pass to resume. The last
// key rewritten (anonymise) is the step's Cursor, never its Detail: a key
// may be an email (a collection whose primary key is the address).
type progress struct {
	Pass int `json:"pass"`
	// After is read from steps journaled before cursors were kept apart.
	After *string `json:"after,omitempty"`
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
	return r.eraseRows(ctx, t, name, prev, r.e.batchSize(), func(ctx context.Context, sel connector.Selection, _ *string, limit int) (int64, string, error) {
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
	return r.eraseRows(ctx, t, name, prev, r.e.rowBatch(), func(ctx context.Context, sel connector.Selection, after *string, limit int) (int64, string, error) {
		return t.store.Anonymize(ctx, sel, an, after, limit)
	})
}

// eraseRows runs step name over t's rows, pass by pass, in batches of size
// rows at first (see batch.Loop): op deletes or rewrites up to limit rows
// of sel after the key after (nil: from the first) and says how many and
// the last key it rewrote ("" when it deletes). The count, pass and last
// key are journaled after every batch that changed rows, at once: a
// process killed between a batch's commit and its step loses that batch's
// count, and a resumed run continues after the key. A done step is skipped.
func (r *run) eraseRows(ctx context.Context, t *target, name string, prev dsr.Step, size int,
	op func(ctx context.Context, sel connector.Selection, after *string, limit int) (int64, string, error)) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	var at progress
	total := resume(prev, &at)
	if prev.Status == stepRunning && prev.Cursor != "" {
		at.After = &prev.Cursor
	}
	err := r.eachPass(ctx, t, at.Pass, func(pass int, sel connector.Selection) error {
		after := at.After
		if pass > at.Pass {
			after = nil
		}
		return r.e.loop(size).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
			n, last, err := op(bctx, sel, after, b.Size)
			if err != nil || n == 0 {
				return err
			}
			b.N, total, after = n, total+n, &last
			return r.save(ctx, name, stepRunning, total, progress{Pass: pass}, after)
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

// save journals a step; cursor, when set, is where a running step resumes.
func (r *run) save(ctx context.Context, name, status string, n int64, at progress, cursor *string) error {
	s := dsr.Step{Name: name, Status: status, Count: n}
	if status == stepRunning {
		b, _ := json.Marshal(at)
		s.Detail = string(b)
		if cursor != nil {
			s.Cursor = *cursor
		}
	}
	if err := r.j.SaveStep(ctx, s); err != nil {
		return fmt.Errorf("journal step %q: %w", name, err)
	}
	return nil
}
