// Package memjournal is a dsr.Journal held in memory: for benchmarks that
// measure the engine and the application's stores alone, and for tests of
// the engine. It forgets everything when the process ends, so it never
// serves a running Lethe; the durable journal lives in pkg/state.
package memjournal

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/lethe-privacy/lethe/dsr"
)

// Journal is an in-memory dsr.Journal, safe for concurrent use. The zero
// value is not ready: use New.
type Journal struct {
	mu       sync.Mutex
	steps    []dsr.Step
	keys     map[string]map[string]bool
	snapshot []byte
}

var _ dsr.Journal = (*Journal)(nil)

// New returns an empty journal.
func New() *Journal { return &Journal{keys: map[string]map[string]bool{}} }

// Steps returns the steps recorded so far, in the order first recorded.
func (j *Journal) Steps(context.Context) ([]dsr.Step, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.steps), nil
}

// Step returns the step recorded under name, or the zero Step.
func (j *Journal) Step(name string) dsr.Step {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.steps {
		if s.Name == name {
			return s
		}
	}
	return dsr.Step{}
}

// SaveStep records s, replacing an earlier step of the same name.
func (j *Journal) SaveStep(_ context.Context, s dsr.Step) error {
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

// FreezeKeys stores keys under set; a key stored twice is kept once.
func (j *Journal) FreezeKeys(_ context.Context, set string, keys []string) error {
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

// FrozenKeys returns up to limit keys of set greater than after, in order.
func (j *Journal) FrozenKeys(_ context.Context, set, after string, limit int) ([]string, error) {
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

// Snapshot stores data unless a snapshot is stored already, and returns the
// stored one.
func (j *Journal) Snapshot(_ context.Context, data []byte) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.snapshot == nil {
		j.snapshot = slices.Clone(data)
	}
	return slices.Clone(j.snapshot), nil
}
