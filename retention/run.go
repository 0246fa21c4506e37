package retention

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Status is where a run stands: queued → running → completed | failed.
type Status string

// Run statuses.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
)

// Kinds of run: the registry's retention rules, or the purge of the
// responses of tenants that stopped collecting them (see RunResponses).
// Each kind has its own run history for resuming, and one real run of each
// kind may be active at a time.
const (
	KindRetention = "retention"
	KindResponses = "responses"
)

// Triggers: what started a run.
const (
	TriggerSchedule = "schedule"
	TriggerAPI      = "api"
	TriggerCLI      = "cli"
)

// Run is one sweep: a real one or a dry run.
type Run struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Kind is KindRetention or KindResponses.
	Kind    string `json:"kind"`
	DryRun  bool   `json:"dry_run"`
	Trigger string `json:"trigger"`
	Actor   string `json:"actor"`
	// AsOf is the time windows are counted back from. A run that resumes
	// an interrupted one keeps the interrupted run's AsOf.
	AsOf        time.Time  `json:"as_of"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	HeartbeatAt *time.Time `json:"-"`
	// Resumes is the id of the interrupted run this one carried on from.
	Resumes         string     `json:"resumes,omitempty"`
	Counts          []Count    `json:"counts"`
	Err             *dsr.Error `json:"error"`
	Cursor          Cursor     `json:"-"`
	RegistryVersion string     `json:"registry_version,omitempty"`
	// FilesPending lists (up to a bound) the files of purged rows that are
	// still to be deleted from their blob store; set by RunReader.Run.
	FilesPending []File `json:"files_pending,omitempty"`
}

// Count is what a run did to one collection under one policy tier. Tenant
// is the tenant whose override the rows fell under, or "" for the
// registry's window (every tenant without an override).
type Count struct {
	Collection     string `json:"collection"`
	Tenant         string `json:"tenant"`
	RowsPurged     int64  `json:"rows_purged"`
	RowsAnonymized int64  `json:"rows_anonymized"`
	// RowsRedacted counts rows whose text the redact action rewrote.
	RowsRedacted int64 `json:"rows_redacted"`
	RowsHeld     int64 `json:"rows_held"`
	FilesPurged  int64 `json:"files_purged"`
	FilesPending int64 `json:"files_pending"`
	KeysPurged   int64 `json:"keys_purged"`
}

// count returns the Count of collection and tenant in r, adding it.
func (r *Run) count(collection, tenant string) *Count {
	for i := range r.Counts {
		if r.Counts[i].Collection == collection && r.Counts[i].Tenant == tenant {
			return &r.Counts[i]
		}
	}
	r.Counts = append(r.Counts, Count{Collection: collection, Tenant: tenant})
	sort.Slice(r.Counts, func(i, j int) bool {
		a, b := r.Counts[i], r.Counts[j]
		return a.Collection < b.Collection || (a.Collection == b.Collection && a.Tenant < b.Tenant)
	})
	return r.count(collection, tenant)
}

// Totals sums the counts of r over collections and tenants.
func (r *Run) Totals() Count {
	var t Count
	for _, c := range r.Counts {
		t.RowsPurged += c.RowsPurged
		t.RowsAnonymized += c.RowsAnonymized
		t.RowsRedacted += c.RowsRedacted
		t.RowsHeld += c.RowsHeld
		t.FilesPurged += c.FilesPurged
		t.FilesPending += c.FilesPending
		t.KeysPurged += c.KeysPurged
	}
	return t
}

// Cursor is where a run stands: the units done and, inside the current
// unit, the resume position of its own rows.
type Cursor struct {
	Done []string `json:"done,omitempty"`
	Unit string   `json:"unit,omitempty"`
	// After is the cut-off column's value of the newest row purged so far
	// in Unit (rows are purged oldest first).
	After *Position `json:"after,omitempty"`
	// AfterKey is the primary key of the last row anonymised in Unit.
	AfterKey *string `json:"after_key,omitempty"`
}

func (c *Cursor) done(unit string) bool {
	for _, u := range c.Done {
		if u == unit {
			return true
		}
	}
	return false
}

// File is a file of a purged row, in a blob store.
type File struct {
	Store      string `json:"store"`
	Key        string `json:"key"`
	Collection string `json:"-"`
	Tenant     string `json:"-"`
}

// Begin is how a sweep asks RunLog.Begin for its run.
type Begin struct {
	// ID is the queued run to start; "" creates a new run.
	ID string
	// Kind is the new run's kind ("" is KindRetention); a queued run keeps
	// its own.
	Kind    string
	DryRun  bool
	Trigger string
	Actor   string
	Now     time.Time
	// StaleAfter is how long a running run may go without progress before
	// it is taken to be dead and is resumed.
	StaleAfter time.Duration
	// RegistryVersion is recorded with the run.
	RegistryVersion string
}

// RunFilter selects runs in RunReader.Runs.
type RunFilter struct {
	Cursor string
	Limit  int
	// Kind, when set, lists only runs of that kind.
	Kind string
}

// RunPage is one page of runs, newest first; NextCursor is "" on the last.
type RunPage struct {
	Items      []*Run
	NextCursor string
}

// RunReader reads recorded runs: all the API's listing needs.
type RunReader interface {
	// Run returns one run with up to 1000 of its pending files; ENOTFOUND.
	Run(ctx context.Context, id string) (*Run, error)
	// Runs lists runs newest first; EINVALID for a tampered cursor.
	Runs(ctx context.Context, f RunFilter) (*RunPage, error)
}

// ErrTakenOver is returned by RunLog.Save and Finish when the run is no
// longer this process's to write: its process stalled past its heartbeat
// and another sweep took the run over (marking it failed and resuming it).
// The sweep stops at once and records nothing more, so that two sweeps
// never write at once.
var ErrTakenOver = errors.New("retention run taken over by another process")

// RunLog is the privileged side that only the Sweeper holds.
type RunLog interface {
	RunReader
	// Begin starts a run: the queued run b.ID or a new one. A real run
	// resumes the latest failed run of its kind that nothing resumed yet
	// (taking its AsOf and Cursor, and recording Resumes); a running run of
	// its kind whose heartbeat is older than b.StaleAfter is first marked
	// failed. ECONFLICT while another real run of its kind is running; a
	// dry run never waits and never resumes.
	Begin(ctx context.Context, b Begin) (*Run, error)
	// Save records r's counts, cursor and heartbeat, and files, in one
	// transaction; ErrTakenOver once r is no longer running as this
	// process's.
	Save(ctx context.Context, r *Run, files []File) error
	// Finish records r's final status and error, and appends an audit
	// entry with its counts, in one transaction; ErrTakenOver (recording
	// nothing) once r is no longer running as this process's.
	Finish(ctx context.Context, r *Run) error
	// FilesDone marks files deleted from their blob store.
	FilesDone(ctx context.Context, files []File) error
}
