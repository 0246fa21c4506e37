package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// PlanFiles is what an erasure would do with the objects one file column
// of the subject's rows names: counts only, since object keys often carry
// a person's name.
type PlanFiles struct {
	Store      string `json:"store"`      // the blob store
	Collection string `json:"collection"` // "<store>.<collection>" of the rows
	Column     string `json:"column"`
	// Delete counts the references an erasure would follow and delete.
	Delete int64 `json:"delete"`
	// Refused counts the references it refuses: absolute, holding "..",
	// outside the store's prefix or through a symbolic link once resolved.
	Refused int64 `json:"refused"`
	// Stops is set when Refused is not 0 and the store is not best_effort:
	// an erasure would stop before changing anything.
	Stops bool `json:"stops"`
}

// planFiles resolves every file reference of the targets an erasure would
// delete or anonymise, reading the live rows. A blob store that is not
// configured is left out: a dry run needs only the sql stores.
func (r *run) planFiles(ctx context.Context, targets []*target) ([]PlanFiles, error) {
	out := []PlanFiles{}
	for _, t := range targets {
		if t.c.Erasure.Action == registry.ActionKeep {
			continue
		}
		for _, col := range fileColumns(t) {
			storeName := t.c.Files[col]
			bs := r.e.Blobs[storeName]
			if bs == nil {
				continue
			}
			pf := PlanFiles{Store: storeName, Collection: t.c.Key, Column: col}
			if err := countRefs(ctx, t.values(r, col)(), bs, &pf); err != nil {
				return nil, fmt.Errorf("plan files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
			}
			pf.Stops = pf.Refused > 0 && !r.reg.Stores[storeName].BestEffort
			out = append(out, pf)
		}
	}
	return out, nil
}

// countRefs resolves every reference it yields into pf's counts.
func countRefs(ctx context.Context, it iterator, bs BlobStore, pf *PlanFiles) error {
	for {
		refs, err := it.next(ctx)
		if err != nil {
			return err
		} else if refs == nil {
			return nil
		}
		for _, ref := range refs {
			no, err := refused(resolveErr(bs, ref))
			switch {
			case err != nil:
				return err
			case no:
				pf.Refused++
			default:
				pf.Delete++
			}
		}
	}
}

// checkFiles resolves every frozen file reference before any row changes:
// a refused one in a blob store that is not best_effort stops the erasure
// with EUNPROCESSABLE naming the collection and column, so that rows are
// never deleted while their files stay behind unreferenced. A run that
// already erased something (a resumed one) passed this check when it
// started and is not stopped half-way.
func (r *run) checkFiles(ctx context.Context, targets []*target, steps map[string]dsr.Step) error {
	for name := range steps {
		if strings.HasPrefix(name, "erase ") || strings.HasPrefix(name, "files ") {
			return nil
		}
	}
	for _, t := range targets {
		if t.c.Erasure.Action == registry.ActionKeep {
			continue
		}
		for _, col := range fileColumns(t) {
			storeName := t.c.Files[col]
			if r.reg.Stores[storeName].BestEffort {
				continue
			}
			pf := PlanFiles{}
			if err := countRefs(ctx, r.frozenKeys(fileSet(t.c.Key, col))(), r.e.Blobs[storeName], &pf); err != nil {
				return fmt.Errorf("check files of %s.%s in store %s: %w", t.c.Key, col, storeName, err)
			}
			if pf.Refused > 0 {
				return dsr.Errorf(dsr.EUNPROCESSABLE,
					"collection %s, file column %s: %d file reference(s) refused by blob store %s (absolute, holding '..', outside its prefix, or a symbolic link); nothing was erased. Map the paths the rows hold with path_prefix on the store, fix the rows, or set best_effort: true on the store to erase the rest and report these",
					t.c.Key, col, pf.Refused, storeName)
			}
		}
	}
	return nil
}
