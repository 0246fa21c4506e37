package retention

import (
	"context"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Store is what a sweep needs of an application's sql store. Selections
// passed to a store belong to collections of that store.
//
// Errors: a store that cannot be reached returns a *dsr.Error with code
// dsr.EUNAVAILABLE naming the store; other errors name the collection.
type Store interface {
	// Count returns, for each selection, how many rows it selects.
	Count(ctx context.Context, sels []connector.Selection) ([]int64, error)
	// Tally returns, for each tally, its rows in one group per value of
	// its By column (none when it selects no row), or in one group with a
	// nil Value when By is "", in one round trip where the store can.
	Tally(ctx context.Context, ts []Tally) ([][]TallyGroup, error)
	// Purge deletes up to limit rows that sel selects, oldest first when
	// sel.Older is set, in one transaction, and returns how many it deleted
	// and, per deleted row, the values of cols followed, when via is set,
	// by the row's tenant read through via (nil for a row of no tenant).
	Purge(ctx context.Context, sel connector.Selection, cols []string, via []TenantHop, limit int) (int64, [][]any, error)
	// Anonymize rewrites up to limit rows that sel selects after the key
	// *after (primary-key order), in one transaction, and returns how many
	// it rewrote and the key of the last one. A sweep passes no ahead.
	Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error)
	// AnonymizeTally is Anonymize that also counts the rows it rewrote per
	// tenant, as Tally counts t: t.Sel is the selection, t.By or t.Via
	// where each row's tenant is read (before the rewrite); t.Files is
	// ignored. Groups are as Tally's, none when no row was rewritten.
	AnonymizeTally(ctx context.Context, t Tally, a connector.Anonymization, after *string, limit int) ([]TallyGroup, string, error)
	// Rewrite reads up to limit rows that sel selects after the key *after
	// (primary-key order) with their tenant, and writes back, in one
	// transaction, the columns rw.Edit changes (nothing when rw.DryRun). It
	// returns the rows read, the rows changed and the key of the last row
	// read.
	Rewrite(ctx context.Context, sel connector.Selection, rw Rewrite, after *string, limit int) (read, changed int64, last string, err error)
}

// Tally is a count that Store.Tally makes: the rows Sel selects, split
// by the value of the column By when set, with the file keys among them.
// A dry run counts with it what a sweep would purge of each tenant.
type Tally struct {
	Sel connector.Selection
	// By is a column of Sel's collection (its tenant column), or "".
	By string
	// Via, with By "", splits the rows by the tenant read through these
	// hops from each row (see Rewrite.TenantPath): the tenant of a row of
	// a collection with no tenant column of its own.
	Via []TenantHop
	// Files are columns of Sel's collection whose values that are neither
	// NULL nor empty are counted, as Purge returns them for a sweep's files.
	Files []string
}

// TallyGroup is what a Tally counted of the rows that hold one value of
// its By column.
type TallyGroup struct {
	// Value is the By column's value (or the tenant read through Via), as
	// text or as the driver returns it (Purge's values); nil for NULL, for
	// a row Via leads to no tenant, and without By or Via.
	Value any
	Rows  int64
	// Files counts the values of the Tally's Files columns in these rows
	// that are neither NULL nor empty.
	Files int64
}

// Rewrite is how Store.Rewrite edits the text of rows: the redact action.
type Rewrite struct {
	// Columns are read and, when Edit changes them, written back.
	Columns []string
	// TenantPath leads from a row to its tenant when the collection has no
	// tenant column of its own: each hop's Column holds ParentColumn of a
	// row of Parent, and the last Parent has a tenant column. Empty with a
	// tenant column of its own, or for rows that belong to no tenant.
	TenantPath []TenantHop
	// Edit returns a column's new text and whether it changed; tenant is ""
	// for a row of no tenant. Only non-NULL values are edited.
	Edit func(tenant, column, old string) (string, bool, error)
	// DryRun reads and edits but writes nothing.
	DryRun bool
}

// TenantHop is one step of a Rewrite's TenantPath.
type TenantHop struct {
	Column       string
	Parent       *registry.Collection
	ParentColumn string
	// Where holds the reference's conditions on the row the hop starts
	// from: a row that does not meet them has no tenant by this hop.
	Where []registry.Condition
}

// Engine is what a sweep borrows from the erasure engine.
type Engine interface {
	// SubjectRows returns, per collection, the rows tied to a person.
	SubjectRows(ctx context.Context, email, tenant string) (map[string]connector.Selection, error)
	// Anonymization returns how c's erasure strategies rewrite a row.
	Anonymization(c *registry.Collection) (connector.Anonymization, error)
}

// FileDeleter deletes files from blob stores; nil leaves the files of
// purged rows pending in the run's report.
type FileDeleter interface {
	// DeleteFile deletes key from blob store store; a missing file is not
	// an error.
	DeleteFile(ctx context.Context, store, key string) error
}

// Observer is told what sweeps do, for metrics; its methods must not block.
type Observer interface {
	// Batch reports one batch on collection: rows purged or anonymised,
	// files deleted, and how long the batch took.
	Batch(collection string, rows, files int64, took time.Duration)
	// Finished reports a run's end.
	Finished(r *Run)
}

// DeleteFileFunc adapts a function to FileDeleter.
type DeleteFileFunc func(ctx context.Context, store, key string) error

// DeleteFile implements FileDeleter.
func (f DeleteFileFunc) DeleteFile(ctx context.Context, store, key string) error {
	return f(ctx, store, key)
}

// RangeStore is a Store that can purge by physical position (Postgres):
// the Sweeper then walks a collection's own expired rows in storage order,
// one slice of pages per batch, reading the table once however its rows are
// dated, instead of jumping through an index in time order.
type RangeStore interface {
	// Extent returns the pages of c's table now and the average rows per
	// page; ok is false when the store cannot purge by range.
	Extent(ctx context.Context, c *registry.Collection) (pages int64, rowsPerPage float64, ok bool, err error)
	// PurgeRange deletes the rows sel selects stored in pages [from, to), in
	// one transaction, and returns how many and, per row, the values of cols
	// and the tenant read through via, as Purge.
	PurgeRange(ctx context.Context, sel connector.Selection, cols []string, via []TenantHop, from, to int64) (int64, [][]any, error)
	// PurgeRangeTally is PurgeRange of t.Sel's rows that returns the rows
	// it deleted per tenant (t.By, or read through t.Via), grouped as
	// Tally groups them, instead of each row's values; t.Files is ignored.
	// A sweep purges with it the rows of a collection without files.
	PurgeRangeTally(ctx context.Context, t Tally, from, to int64) ([]TallyGroup, error)
}
