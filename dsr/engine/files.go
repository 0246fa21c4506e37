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
			err := r.eachFile(ctx, t, col, at.After, "erase", func(key string, no bool) error {
				if no {
					at.Tally.Refused++
					return nil
				}
				if err := r.synced(ctx); err != nil {
					return err
				}
				existed, err := bs.Delete(ctx, key)
				switch {
				case err != nil:
					return err
				case existed:
					at.Tally.Deleted++
				default:
					at.Tally.Missing++
				}
				return nil
			}, func(last string) error {
				at.After = last
				return r.saveCursor(ctx, name, stepRunning, at.Tally.Deleted, fileProgress{Tally: at.Tally}, at.After)
			})
			if err != nil {
				return err
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
			err := r.eachFile(ctx, t, col, "", "verify", func(key string, no bool) error {
				if no {
					// Never followed, so never deleted: the subject's file
					// may still exist outside the bucket, and an erasure
					// that cannot prove otherwise is not complete.
					found[storeName+".files_refused"]++
					return nil
				}
				ok, err := bs.Exists(ctx, key)
				if ok && err == nil {
					found[storeName+".files"]++
				}
				return err
			}, nil)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// eachFile calls do with every frozen reference of t's file column col
// after after, chunk by chunk, and whether the column's blob store refuses
// to follow it (see refused); chunk, when not nil, gets the last reference
// of every chunk. An error resolving a reference or from do names what was
// done (erase, verify), the column and its store; one reading the journal
// or from chunk is returned as it is.
func (r *run) eachFile(ctx context.Context, t *target, col, after, what string, do func(ref string, refused bool) error, chunk func(last string) error) error {
	storeName := t.c.Files[col]
	bs := r.e.Blobs[storeName]
	it := &frozenIter{r: r, set: fileSet(t.c.Key, col), after: after}
	for {
		refs, err := it.next(ctx)
		if err != nil || refs == nil {
			return err
		}
		for _, ref := range refs {
			no, err := refused(resolveErr(bs, ref))
			if err == nil {
				err = do(ref, no)
			}
			if err != nil {
				return fmt.Errorf("%s files of %s.%s in store %s: %w", what, t.c.Key, col, storeName, err)
			}
		}
		if chunk != nil {
			if err := chunk(refs[len(refs)-1]); err != nil {
				return err
			}
		}
	}
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
