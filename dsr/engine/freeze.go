package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

const stepFreeze = "freeze"

// frozenRecord is the freeze step's Detail: the key sets frozen, so that a
// resumed run reads them back instead of walking a half-erased database.
type frozenRecord struct {
	Sets  []string         `json:"sets"`
	Files map[string]int64 `json:"files,omitempty"` // "<store>.<collection>.<column>" → file keys frozen
}

// freeze freezes, before anything changes, the primary keys of every
// identity collection, every key set a hop uses (the parent's referenced
// column), and the file keys of the collections to erase. Leaves (the
// collections nothing references, where the bulk of a subject's rows are)
// are never frozen: they are deleted by their parents' frozen keys. A run
// whose freeze step is done reads the record back instead.
func (r *run) freeze(ctx context.Context, steps map[string]dsr.Step) (*frozenRecord, error) {
	if s, ok := steps[stepFreeze]; ok && s.Status == stepDone {
		var rec frozenRecord
		if err := json.Unmarshal([]byte(s.Detail), &rec); err != nil {
			return nil, fmt.Errorf("read the freeze step: %w", err)
		}
		for _, set := range rec.Sets {
			r.frozen[set] = true
		}
		return &rec, nil
	}
	r.freezing = true
	defer func() { r.freezing, r.memo = false, map[string]*target{} }()
	for _, c := range r.reg.Order() {
		if !c.Identity() {
			continue
		}
		t, err := r.target(ctx, c, modeFound)
		if err != nil {
			return nil, err
		}
		if err := r.freezeSet(ctx, setName(modeFound, c, c.PrimaryKey), t, c.PrimaryKey); err != nil {
			return nil, err
		}
	}
	r.memo = map[string]*target{}
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	rec := &frozenRecord{Files: map[string]int64{}}
	for _, t := range targets {
		if t.c.Erasure.Action == registry.ActionKeep {
			continue
		}
		for col := range t.c.Files {
			set := fileSet(t.c.Key, col)
			n, err := r.freezeCount(ctx, set, t, []string{col})
			if err != nil {
				return nil, err
			}
			rec.Files[t.c.Key+"."+col] = n
		}
	}
	if err := r.freezePlaceholders(ctx, targets); err != nil {
		return nil, err
	}
	if err := r.freezeTemplateParams(ctx); err != nil {
		return nil, err
	}
	for set := range r.frozen {
		rec.Sets = append(rec.Sets, set)
	}
	sort.Strings(rec.Sets)
	detail, _ := json.Marshal(rec)
	// Held where the journal can (a Syncer): the step that journals the
	// first change ahead carries it, durably, in its own statement, and
	// synced stores it before a change that no step journals ahead.
	_, held := r.j.(dsr.Syncer)
	if err := r.j.SaveStep(ctx, dsr.Step{Name: stepFreeze, Status: stepDone, Count: r.frozenN, Detail: string(detail), Durable: true, Later: held}); err != nil {
		return nil, fmt.Errorf("journal the freeze step: %w", err)
	}
	r.unsynced = held
	return rec, nil
}

// synced returns once the freeze step is durable, with the frozen keys,
// the snapshot and every step journaled before now: each change an erasure
// makes (the application's rows, files and keys, Lethe's copies, a
// processor told) calls it first, so that a crash of the state store
// before the freeze step is stored finds nothing changed, and the run
// that redoes the request from its start only read. It costs nothing once
// the step is durable, and no statement when the step journaled just
// before the change (its batch ahead) carried it.
func (r *run) synced(ctx context.Context) error {
	if !r.unsynced {
		return nil
	}
	if err := r.j.(dsr.Syncer).Sync(ctx); err != nil {
		return fmt.Errorf("journal the freeze step: %w", err)
	}
	r.unsynced = false
	return nil
}

// freezeSet stores the values of cols in t's rows as key set set, once.
func (r *run) freezeSet(ctx context.Context, set string, t *target, cols []string) error {
	if r.frozen[set] {
		return nil
	}
	_, err := r.freezeCount(ctx, set, t, cols)
	return err
}

func (r *run) freezeCount(ctx context.Context, set string, t *target, cols []string) (int64, error) {
	it := &liveIter{r: r, t: t, cols: cols}
	var n int64
	for {
		vals, err := it.next(ctx)
		if err != nil {
			return n, fmt.Errorf("freeze %s: %w", t.c.Key, err)
		} else if vals == nil {
			break
		}
		if err := r.j.FreezeKeys(ctx, set, vals); err != nil {
			return n, fmt.Errorf("freeze %s: %w", t.c.Key, err)
		}
		n += int64(len(vals))
	}
	r.frozenN += n
	r.frozen[set] = true
	return n, nil
}

// freezePlaceholders freezes the values that fill the redis key templates
// ({app.users.id}: the subject's user ids), so that the keys are still
// found once the rows that held the values are gone.
func (r *run) freezePlaceholders(ctx context.Context, targets []*target) error {
	byKey := map[string]*target{}
	for _, t := range targets {
		byKey[t.c.Key] = t
	}
	for _, name := range r.placeholders() {
		dot := strings.LastIndexByte(name, '.')
		t := byKey[name[:dot]]
		if t == nil {
			continue
		}
		if err := r.freezeSet(ctx, keySet(name), t, []string{name[dot+1:]}); err != nil {
			return err
		}
	}
	return nil
}
