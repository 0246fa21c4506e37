package engine_test

import (
	"context"
	"errors"
	"sync"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
)

// memJournal is the in-memory journal of dsr/memjournal with a fault: the
// durable one lives in pkg/state. failAfter > 0 makes the failAfter-th
// SaveStep fail, the way a process killed between a committed batch and
// its journal entry loses that entry.
type memJournal struct {
	*memjournal.Journal
	mu        sync.Mutex
	saves     int
	failAfter int
	history   []dsr.Step // every step saved, in order
}

var errKilled = errors.New("killed")

func newJournal() *memJournal { return &memJournal{Journal: memjournal.New()} }

func (j *memJournal) SaveStep(ctx context.Context, s dsr.Step) error {
	j.mu.Lock()
	j.saves++
	if j.failAfter > 0 && j.saves == j.failAfter {
		j.mu.Unlock()
		return errKilled
	}
	j.history = append(j.history, s)
	j.mu.Unlock()
	return j.Journal.SaveStep(ctx, s)
}

func (j *memJournal) step(name string) dsr.Step { return j.Step(name) }
