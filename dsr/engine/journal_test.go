package engine_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/lethe-privacy/lethe/dsr"
)

// memJournal is an in-memory dsr.Journal for tests; the durable one lives
// in pkg/state. failAfter > 0 makes the failAfter-th SaveStep fail, the
// way a process killed between a committed batch and its journal entry
// loses that entry.
type memJournal struct {
	mu        sync.Mutex
	steps     []dsr.Step
	keys      map[string]map[string]bool
	snapshot  []byte
	saves     int
	failAfter int
	history   []dsr.Step // every step saved, in order
}

var errKilled = errors.New("killed")

func newJournal() *memJournal { return &memJournal{keys: map[string]map[string]bool{}} }

func (j *memJournal) Steps(context.Context) ([]dsr.Step, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.steps), nil
}

func (j *memJournal) SaveStep(_ context.Context, s dsr.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.saves++
	if j.failAfter > 0 && j.saves == j.failAfter {
		return errKilled
	}
	j.history = append(j.history, s)
	for i := range j.steps {
		if j.steps[i].Name == s.Name {
			j.steps[i] = s
			return nil
		}
	}
	j.steps = append(j.steps, s)
	return nil
}

func (j *memJournal) FreezeKeys(_ context.Context, set string, keys []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.keys[set] == nil {
		j.keys[set] = map[string]bool{}
	}
	for _, k := range keys {
		j.keys[set][k] = true
	}
	return nil
}

func (j *memJournal) FrozenKeys(_ context.Context, set, after string, limit int) ([]string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for k := range j.keys[set] {
		if k > after {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (j *memJournal) Snapshot(_ context.Context, data []byte) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.snapshot == nil {
		j.snapshot = slices.Clone(data)
	}
	return slices.Clone(j.snapshot), nil
}

func (j *memJournal) step(name string) dsr.Step {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.steps {
		if s.Name == name {
			return s
		}
	}
	return dsr.Step{}
}
