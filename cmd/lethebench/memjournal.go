package main

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/lethe-privacy/lethe/dsr"
)

// memJournal is an in-memory dsr.Journal for benchmarks that measure the
// engine and the application database alone, not Lethe's own state store.
type memJournal struct {
	mu       sync.Mutex
	steps    []dsr.Step
	keys     map[string]map[string]bool
	snapshot []byte
}

func newJournal() *memJournal { return &memJournal{keys: map[string]map[string]bool{}} }

func (j *memJournal) Steps(context.Context) ([]dsr.Step, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.steps), nil
}

func (j *memJournal) SaveStep(_ context.Context, s dsr.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
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
