package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

const stepExport = "export"

// Exporter writes a request's access package (GDPR Art. 15, 20) and stores
// it; pkg/export implements it.
type Exporter interface {
	// Export writes the package of req from a, reading rows, files and keys
	// through a's methods as it goes, and stores it. Errors name the store
	// or collection that failed; EUNAVAILABLE ones are retried.
	Export(ctx context.Context, req *dsr.Request, a *Access) (*ExportResult, error)
}

// ExportResult is what an Exporter stored.
type ExportResult struct {
	Object    string    `json:"object"`
	Size      int64     `json:"size"`    // bytes stored (encrypted)
	Entries   int       `json:"entries"` // files in the ZIP
	ExpiresAt time.Time `json:"expires_at"`
}

// Access is one subject's data as an access package reads it: the walk of
// the registry, with readers that stream rows, files and keys one at a time.
type Access struct {
	Registry *registry.Registry
	// Plan holds the rows per collection, parents first.
	Plan  *Plan
	r     *run
	byKey map[string]*target
	// Counts of files and keys read and of file keys refused, filled as
	// Files and Keys run: "<blob store>.files", "<blob store>.refused",
	// "<redis store>.keys".
	Counts map[string]int64
}

// FileRef is one object named by a file column of one of the subject's rows.
type FileRef struct {
	Store      string // the blob store
	Collection string // "<store>.<collection>" of the row
	Column     string
	// Key is the object key the row's reference resolves to; for a refused
	// reference, the reference as the row holds it.
	Key string
	// Refused is set for a reference that is absolute, holds "..", leaves
	// the store's prefix or passes through a symbolic link once resolved:
	// it is reported and never opened.
	Refused bool
}

// Rows streams every row of collection c tied to the subject, with all its
// columns, to fn. Errors: EUNPROCESSABLE when c's store cannot stream.
func (a *Access) Rows(ctx context.Context, c *registry.Collection, fn func(columns []string, values []any) error) error {
	t := a.byKey[c.Key]
	if t == nil {
		return nil
	}
	if c.Templates != nil {
		if err := a.r.queryTemplate(ctx, t, c.Templates.Access, fn); err != nil {
			return fmt.Errorf("export %s: %w", c.Key, err)
		}
		return nil
	}
	s, ok := t.store.(Streamer)
	if !ok {
		return dsr.Errorf(dsr.EUNPROCESSABLE, "store %s cannot stream rows for an access package", c.Store)
	}
	err := a.r.eachPass(ctx, t, 0, func(_ int, sel connector.Selection) error { return s.Stream(ctx, sel, fn) })
	if err != nil {
		return fmt.Errorf("export %s: %w", c.Key, err)
	}
	return nil
}

// Files calls fn for each object the subject's rows name, file column by
// file column; open reads a followable object (nil for a refused one).
// A missing object is skipped and counted under "<blob store>.missing".
func (a *Access) Files(ctx context.Context, fn func(f FileRef, open func() (io.ReadCloser, error)) error) error {
	for _, c := range a.Registry.Order() {
		t := a.byKey[c.Key]
		if t == nil {
			continue
		}
		for _, col := range fileColumns(t) {
			storeName := c.Files[col]
			bs := a.r.e.Blobs[storeName]
			it := t.values(a.r, col)()
			for {
				keys, err := it.next(ctx)
				if err != nil {
					return fmt.Errorf("export files of %s.%s: %w", c.Key, col, err)
				} else if keys == nil {
					break
				}
				for _, key := range keys {
					f := FileRef{Store: storeName, Collection: c.Key, Column: col, Key: key}
					resolved, err := bs.Resolve(key)
					if no, err := refused(err); err != nil {
						return fmt.Errorf("export files of %s.%s in store %s: %w", c.Key, col, storeName, err)
					} else if no {
						f.Refused = true
						a.Counts[storeName+".refused"]++
						if err := fn(f, nil); err != nil {
							return err
						}
						continue
					}
					ok, err := bs.Exists(ctx, key)
					if err != nil {
						return fmt.Errorf("export files of %s.%s in store %s: %w", c.Key, col, storeName, err)
					}
					if !ok {
						a.Counts[storeName+".missing"]++
						continue
					}
					a.Counts[storeName+".files"]++
					f.Key = resolved
					open := func() (io.ReadCloser, error) { return bs.Open(ctx, key) }
					if err := fn(f, open); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// Keys calls fn for each redis key the templates match for the subject,
// with its value, store by store; a key is passed once per store.
func (a *Access) Keys(ctx context.Context, fn func(store string, kv *KeyValue) error) error {
	for _, st := range a.r.redisStores() {
		pats, err := a.r.keyPatterns(ctx, st, a.targets(), false)
		if err != nil {
			return err
		}
		ks := a.r.e.KeyStores[st.Name]
		seen := map[string]bool{}
		for _, p := range pats {
			err := ks.Scan(ctx, p, func(keys []string) error {
				for _, k := range keys {
					if seen[k] {
						continue
					}
					seen[k] = true
					kv, err := ks.Read(ctx, k)
					if err != nil {
						return err
					} else if kv == nil {
						continue
					}
					a.Counts[st.Name+".keys"]++
					if err := fn(st.Name, kv); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("export keys of store %s: %w", st.Name, err)
			}
		}
	}
	return nil
}

func (a *Access) targets() []*target {
	out := make([]*target, 0, len(a.byKey))
	for _, t := range a.byKey {
		out = append(out, t)
	}
	return out
}

// accessRecord is the export step's Detail: a resumed run returns it.
type accessRecord struct {
	Result  *ExportResult    `json:"result"`
	Counts  map[string]int64 `json:"counts"`
	Refused int64            `json:"files_refused,omitempty"`
}

// access writes the subject's access package through the Exporter.
func (r *run) access(ctx context.Context) (*dsr.Outcome, error) {
	details := map[string]any{"registry_version": r.reg.Version(), "tenant_scoped": r.tenant != ""}
	steps, err := r.j.Steps(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	for _, s := range steps {
		var rec accessRecord
		if s.Name == stepExport && s.Status == stepDone && json.Unmarshal([]byte(s.Detail), &rec) == nil && rec.Result != nil {
			return r.accessOutcome(rec, details), nil
		}
	}
	if r.e.Exporter == nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "access packages need an export key: start lethe with LETHE_EXPORT_KEY (or --export-key)")
	}
	if err := r.enrich(ctx, stepsByName(steps)); err != nil {
		return nil, err
	}
	p, err := r.plan(ctx, false)
	if err != nil {
		return nil, err
	}
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	a := &Access{Registry: r.reg, Plan: p, r: r, byKey: map[string]*target{}, Counts: map[string]int64{}}
	for _, t := range targets {
		a.byKey[t.c.Key] = t
	}
	res, err := r.e.Exporter.Export(ctx, r.req, a)
	if err != nil {
		return nil, err
	}
	rec := accessRecord{Result: res, Counts: map[string]int64{}}
	for _, it := range p.Collections {
		rec.Counts[it.Store+"."+it.Collection] = it.Count
	}
	for k, n := range a.Counts {
		rec.Counts[k] = n
	}
	for name, st := range r.reg.Stores {
		if st.Kind == registry.KindBlob {
			rec.Refused += a.Counts[name+".refused"]
		}
	}
	if err := r.saveDetail(ctx, stepExport, stepDone, res.Size, rec); err != nil {
		return nil, err
	}
	return r.accessOutcome(rec, details), nil
}

func (r *run) accessOutcome(rec accessRecord, details map[string]any) *dsr.Outcome {
	details["export"] = map[string]any{"entries": rec.Result.Entries, "size": rec.Result.Size, "expires_at": rec.Result.ExpiresAt}
	if rec.Refused > 0 {
		details["files_refused"] = rec.Refused
	}
	return &dsr.Outcome{Counts: rec.Counts, Details: details}
}
