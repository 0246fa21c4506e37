package dsr

import (
	"context"
	"time"
)

// Executor carries out one request against the application's data: the
// registry engine. It must be idempotent: a request whose worker died is
// executed again with the same Journal and must end in the same state.
//
// Errors: an *Error with code EUNAVAILABLE (a store is down) or any error
// that is not an *Error is retried with backoff; any other *Error fails the
// request at once with its code and message, which must name what failed
// (a store, a collection) and never a person.
type Executor interface {
	Execute(ctx context.Context, req *Request, j Journal) (*Outcome, error)
}

// Outcome is what an execution did.
type Outcome struct {
	Counts       map[string]int64 // "<store>.<collection>" → rows (or files, keys) touched
	Verification *Verification    // set for erasures; a failed one fails the request
	Details      map[string]any   // extra facts for the certificate (registry version, files, keys)
}

// Step is one journaled unit of an execution, unique by Name in its request.
type Step struct {
	Name   string    `json:"name"`
	Status string    `json:"status"` // "done", "failed", "skipped"…: the executor's words
	Count  int64     `json:"count"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
	// Cursor is where a running step resumes: a key of the application
	// (the last row or file handled). It is never shown, and the journal
	// forgets it when the request ends; Detail holds no keys.
	Cursor string `json:"-"`
	// Durable asks SaveStep to return only once this step, and everything
	// journaled before it, would survive a crash of the state store itself:
	// set on the step after which an execution starts changing data. With
	// Later, on a journal that is a Syncer, the step may be held instead:
	// the statement that stores it then commits durably, and the execution
	// calls Sync before it changes any data.
	Durable bool `json:"-"`
	// Later lets SaveStep hold this step back and store it with the next
	// step saved, in the same statement where the store can, or with the
	// request's end (see Flusher): set on a step that a resumed execution
	// rebuilds from the steps stored before it (a collection's rows done,
	// after the entry that journaled its last batch ahead; the freeze
	// step, from a start that only read; the verification, from the rows
	// left).
	Later bool `json:"-"`
}

// Journal is a request's durable record of progress, kept in Lethe's state
// store so that a restarted execution resumes where it stopped. Steps,
// frozen keys and the snapshot are visible to every process once written,
// but a crash of the state store itself (not of Lethe) may lose those
// written since the last Durable step, which an execution redoes: its
// steps are idempotent. Before its first Durable step a journal may hold
// frozen keys and the snapshot back and store them with the next step, so
// an execution must journal a Durable step before it changes any data (on
// a Syncer, saved Later, and Synced) and may not count on them being
// stored before.
type Journal interface {
	// Steps returns the steps recorded so far, in the order first recorded.
	Steps(ctx context.Context) ([]Step, error)
	// SaveStep records s, replacing an earlier step of the same name.
	SaveStep(ctx context.Context, s Step) error
	// FreezeKeys stores keys under set (e.g. "app.users"); storing a key
	// twice is a no-op.
	FreezeKeys(ctx context.Context, set string, keys []string) error
	// FrozenKeys returns up to limit keys of set greater than after, in order.
	FrozenKeys(ctx context.Context, set string, after string, limit int) ([]string, error)
	// Snapshot stores data as the request's registry snapshot unless one is
	// stored already, and returns the stored one: the first snapshot wins,
	// so a changed registry never changes a request in flight.
	Snapshot(ctx context.Context, data []byte) ([]byte, error)
}

// Flusher is a Journal that holds writes back (steps saved Later, or a
// first attempt's snapshot and keys) for the next step's statement. The
// Runner flushes it before it records a request's end (or has the store
// write them with the end, see JournalFinisher), so that an ending
// attempt (a failure, or the last step saved Later) still stores what it
// did. Flush commits durably when a Durable step is among what it holds.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Syncer is a Journal that may hold a step saved Durable and Later (see
// Step.Durable) for the next step's statement, which then commits durably.
// An execution that saved such a step calls Sync before it changes any
// data.
type Syncer interface {
	// Sync returns once every step saved Durable, and everything
	// journaled before it, is durable: it stores what the journal holds,
	// durably, when a Durable step is among it, and does nothing
	// otherwise (a step saved since carried it).
	Sync(ctx context.Context) error
}

// NoRegistryExecutor fails every request: the executor used when Lethe runs
// without a registry (LETHE_CONFIG unset), so nothing is ever reported as
// done that was not done.
type NoRegistryExecutor struct{}

// Execute returns Refusal().
func (e NoRegistryExecutor) Execute(context.Context, *Request, Journal) (*Outcome, error) {
	return nil, e.Refusal()
}

// Refusal is the EUNPROCESSABLE *Error saying that no registry is configured.
func (NoRegistryExecutor) Refusal() *Error {
	return Errorf(EUNPROCESSABLE, "no registry configured: start lethe with --config or LETHE_CONFIG naming a lethe.yaml")
}
