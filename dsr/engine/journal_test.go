package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
)

// memJournal is the in-memory journal of dsr/memjournal with a fault: the
// durable one lives in pkg/state. failAfter > 0 makes the failAfter-th
// SaveStep fail, the way a process killed between a committed batch and
// its journal entry loses that entry. Like pkg/state's, it holds a step
// saved Later until the next step, which a kill then loses with it.
type memJournal struct {
	*memjournal.Journal
	mu        sync.Mutex
	saves     int
	failAfter int
	history   []dsr.Step     // every step saved, in order
	held      []dsr.Step     // saved Later, stored with the next step
	onSave    func(dsr.Step) // called with each step saved, before it is stored
}

var errKilled = errors.New("killed")

func newJournal() *memJournal { return &memJournal{Journal: memjournal.New()} }

func (j *memJournal) SaveStep(ctx context.Context, s dsr.Step) error {
	if j.onSave != nil {
		j.onSave(s)
	}
	j.mu.Lock()
	j.saves++
	if j.failAfter > 0 && j.saves == j.failAfter {
		j.held = nil
		j.mu.Unlock()
		return errKilled
	}
	if s.Later {
		j.held = append(j.held, s)
		j.mu.Unlock()
		return nil
	}
	return j.store(ctx, append(j.held, s))
}

// store saves steps, the held ones among them, and forgets what it held;
// it is called with j.mu held and unlocks it.
func (j *memJournal) store(ctx context.Context, steps []dsr.Step) error {
	j.held = nil
	j.history = append(j.history, steps...)
	j.mu.Unlock()
	for _, s := range steps {
		if err := j.Journal.SaveStep(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Sync stores what the journal holds when a Durable step is among it, as
// pkg/state's does (see dsr.Syncer): a kill before loses the freeze step
// held with the rest.
func (j *memJournal) Sync(ctx context.Context) error {
	j.mu.Lock()
	if !slices.ContainsFunc(j.held, func(s dsr.Step) bool { return s.Durable }) {
		j.mu.Unlock()
		return nil
	}
	return j.store(ctx, j.held)
}

func (j *memJournal) step(name string) dsr.Step { return j.Step(name) }
