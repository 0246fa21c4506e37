package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lethe-privacy/lethe/dsr"
)

// fileTally is what erasure did with one file column's objects.
type fileTally struct {
	Deleted int64 `json:"deleted"`
	Missing int64 `json:"missing,omitempty"` // already gone: a resumed run, or a dangling key
	Refused int64 `json:"refused,omitempty"` // keys not followed (see ErrUnsafeKey)
}

// fileProgress is a files step's Detail: the tally so far. The last key
// handled is the step's Cursor, so that no file key is ever shown.
type fileProgress struct {
	// After is read from steps journaled before cursors were kept apart.
	After string    `json:"after,omitempty"`
	Tally fileTally `json:"tally"`
}

// fileColumns returns the file columns of t's collection, sorted.
func fileColumns(t *target) []string {
	cols := make([]string, 0, len(t.c.Files))
	for col := range t.c.Files {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	return cols
}

// eraseFiles deletes the objects named by the frozen file keys of t's file
// columns, after t's rows are gone, journaling the last key handled after
// every chunk so that a resumed run continues after it. Refused keys are
// counted, never followed.
func (r *run) eraseFiles(ctx context.Context, t *target, steps map[string]dsr.Step, counts map[string]int64, tallies map[string]fileTally) error {
	for _, col := range fileColumns(t) {
		storeName := t.c.Files[col]
		bs := r.e.Blobs[storeName]
		name := "files " + t.c.Key + "." + col
		var at fileProgress
		if prev := steps[name]; prev.Status == stepDone || prev.Status == stepRunning {
			if err := json.Unmarshal([]byte(prev.Detail), &at); err != nil {
				at = fileProgress{}
			}
			if prev.Cursor != "" {
				at.After = prev.Cursor
			}
		}
		if steps[name].Status != stepDone {
			it := &frozenIter{r: r, set: fileSet(t.c.Key, col), after: at.After}
			for {
				keys, err := it.next(ctx)
				if err != nil {
					return err
				} else if keys == nil {
					break
				}
				for _, key := range keys {
					if no, err := refused(resolveErr(bs, key)); err != nil {
						return fmt.Errorf("erase files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
					} else if no {
						at.Tally.Refused++
						continue
					}
					existed, err := bs.Delete(ctx, key)
					if err != nil {
						return fmt.Errorf("erase files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
					}
					if existed {
						at.Tally.Deleted++
					} else {
						at.Tally.Missing++
					}
				}
				at.After = keys[len(keys)-1]
				if err := r.saveCursor(ctx, name, stepRunning, at.Tally.Deleted, fileProgress{Tally: at.Tally}, at.After); err != nil {
					return err
				}
			}
			if err := r.saveDetail(ctx, name, stepDone, at.Tally.Deleted, fileProgress{Tally: at.Tally}); err != nil {
				return err
			}
		}
		counts[storeName+".files"] += at.Tally.Deleted
		tallies[t.c.Key+"."+col] = at.Tally
	}
	return nil
}

// verifyFiles counts the objects of frozen, followable file keys that still
// exist, under "<blob store>.files".
func (r *run) verifyFiles(ctx context.Context, targets []*target, found map[string]int64) error {
	for _, t := range targets {
		if t.c.Erasure.Action == "keep" {
			continue
		}
		for _, col := range fileColumns(t) {
			storeName := t.c.Files[col]
			bs := r.e.Blobs[storeName]
			it := r.frozenKeys(fileSet(t.c.Key, col))()
			for {
				keys, err := it.next(ctx)
				if err != nil {
					return err
				} else if keys == nil {
					break
				}
				for _, key := range keys {
					if no, err := refused(resolveErr(bs, key)); err != nil {
						return fmt.Errorf("verify files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
					} else if no {
						// Never followed, so never deleted: the subject's file
						// may still exist outside the bucket, and an erasure
						// that cannot prove otherwise is not complete.
						found[storeName+".files_refused"]++
						continue
					}
					ok, err := bs.Exists(ctx, key)
					if err != nil {
						return fmt.Errorf("verify files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
					}
					if ok {
						found[storeName+".files"]++
					}
				}
			}
		}
	}
	return nil
}

// saveDetail journals a step whose Detail is v as JSON.
func (r *run) saveDetail(ctx context.Context, name, status string, n int64, v any) error {
	return r.saveCursor(ctx, name, status, n, v, "")
}

// saveCursor journals a step whose Detail is v as JSON and whose Cursor,
// kept apart from the Detail, is cursor.
func (r *run) saveCursor(ctx context.Context, name, status string, n int64, v any, cursor string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := r.j.SaveStep(ctx, dsr.Step{Name: name, Status: status, Count: n, Detail: string(b), Cursor: cursor}); err != nil {
		return fmt.Errorf("journal step %q: %w", name, err)
	}
	return nil
}

func resolveErr(bs BlobStore, ref string) error {
	_, err := bs.Resolve(ref)
	return err
}
