package engine

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Defaults for Engine's bounds.
const (
	DefaultBatchSize = 20000 // rows per delete batch (one statement, one transaction)
	DefaultRowBatch  = 1000  // rows read into memory per anonymise or verification batch
	DefaultKeyChunk  = 5000  // keys per statement for a key set
	DefaultMaxInline = 20000 // keys a pushed-down sub-selection may carry
	// DefaultBatchTimeout bounds one delete or anonymise batch; a batch that
	// times out is tried again at half the size.
	DefaultBatchTimeout = 30 * time.Second
	// GroupRows bounds each delete of a group, a small subject's
	// collections deleted in one transaction (see deleteAtOnce): one that
	// reaches it takes the group back, and its rows go batch by batch.
	GroupRows = 1000
	// DefaultPause is the mean pause between two batches of one collection,
	// so that the application's own writers get the table; a subject whose
	// rows fit in one batch never waits.
	DefaultPause = 10 * time.Millisecond
)

// Engine executes data-subject requests against the stores of a registry.
// It implements dsr.Executor. The zero value is not usable: set Registry
// and Stores (or use New).
type Engine struct {
	Registry *registry.Registry
	// Stores holds one Store per sql store of the registry, by store name.
	Stores map[string]connector.Store
	// Hasher computes the hmac anonymisation strategy; nil makes a registry
	// that uses hmac fail its erasures with EUNPROCESSABLE.
	Hasher *dsr.SubjectHasher
	// Redactors gives the pseudonyms that the redact strategy writes in a
	// column or JSON path whose category identifies a person (user.name,
	// user.contact.*): keyed to the request's tenant (redact.NoTenant for
	// a request without one). Nil writes registry.Redacted there too.
	Redactors *redact.Keyring
	// BatchSize bounds the rows of one delete; 0 means DefaultBatchSize.
	// Deletes never bring rows into Lethe, so the bound is about lock and
	// transaction size, not memory.
	BatchSize int
	// RowBatch bounds the rows read into memory at once: one anonymise
	// transaction, one page of verification reads. 0 means DefaultRowBatch.
	RowBatch int
	// BatchTimeout bounds one delete or anonymise batch; 0 means
	// DefaultBatchTimeout.
	BatchTimeout time.Duration
	// Pause is the mean (jittered) pause between batches; 0 means
	// DefaultPause, negative none.
	Pause time.Duration
	// Sleep, when set, replaces the timer of the pauses (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// KeyChunk bounds the keys of one statement; 0 means DefaultKeyChunk.
	KeyChunk int
	// MaxInline bounds the keys a pushed-down sub-selection may carry (for
	// example the frozen user ids under a chats → messages hop); a subject
	// with more fails with EUNPROCESSABLE. 0 means DefaultMaxInline.
	MaxInline int
	// MaxPlanKeys bounds the redis keys a plan counts per store; 0 means
	// DefaultMaxPlanKeys.
	MaxPlanKeys int
	// Blobs, KeyStores and Processors hold the registry's blob, redis and
	// processor stores by name. Execute fails with EUNPROCESSABLE when the
	// registry names one that is missing; Plan needs only the sql stores.
	Blobs      map[string]BlobStore
	KeyStores  map[string]KeyStore
	Processors map[string]ProcessorNotifier
	// Exporter writes access packages; nil fails access requests with
	// EUNPROCESSABLE.
	Exporter Exporter
	// Copies, when set, reaches Lethe's own stores: an erasure deletes the
	// person's packages and self-service rows there too, and verification
	// fails while any is left.
	Copies dsr.Copies
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns an Engine over reg and stores with default bounds.
func New(reg *registry.Registry, stores map[string]connector.Store, hasher *dsr.SubjectHasher) *Engine {
	return &Engine{Registry: reg, Stores: stores, Hasher: hasher}
}

// Execute runs req. An erasure snapshots the registry into j (a request
// resumed after a registry change keeps the registry it started with),
// freezes the root keys, erases children first with every step journaled,
// and verifies; the outcome's Verification says whether anything is left.
// Files named by file columns and redis keys filled from the registry's
// templates are erased after their rows, and processors are notified after
// verification (see erase). An access request writes the access package
// through Exporter (see access).
//
// Errors: EUNAVAILABLE when a store cannot be reached (retried by the
// runner); EUNPROCESSABLE when the request's registry snapshot names a store
// that is not configured, or the data breaks a rule of the registry (a JSON
// column that holds no JSON, hmac without a key); other errors name the
// collection and are retried.
func (e *Engine) Execute(ctx context.Context, req *dsr.Request, j dsr.Journal) (*dsr.Outcome, error) {
	reg, err := e.snapshot(ctx, j)
	if err != nil {
		return nil, err
	}
	r := e.newRun(reg, req.Email, req.Tenant, j)
	r.req, r.ids = req, newIdentities(req.Email, req.Identities)
	if err := r.checkStores(); err != nil {
		return nil, err
	}
	if err := r.checkOtherStores(); err != nil {
		return nil, err
	}
	switch req.Type {
	case dsr.TypeErasure:
		return r.erase(ctx)
	case dsr.TypeAccess:
		return r.access(ctx)
	}
	return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "unknown request type %q", req.Type)
}

// snapshot stores the registry as used with the request, or returns the one
// stored by an earlier attempt.
func (e *Engine) snapshot(ctx context.Context, j dsr.Journal) (*registry.Registry, error) {
	mine := e.Registry.Marshal()
	stored, err := j.Snapshot(ctx, mine)
	if err != nil {
		return nil, fmt.Errorf("snapshot registry: %w", err)
	}
	if len(stored) == 0 || bytes.Equal(stored, mine) {
		return e.Registry, nil
	}
	reg, err := registry.Parse(stored)
	if err != nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "the registry snapshot of this request no longer parses: %v", err)
	}
	return reg, nil
}

func (e *Engine) batchSize() int { return cmp.Or(e.BatchSize, DefaultBatchSize) }
func (e *Engine) keyChunk() int  { return cmp.Or(e.KeyChunk, DefaultKeyChunk) }

// loop returns the batch loop of a delete (rows per batch: size) or an
// anonymisation.
func (e *Engine) loop(size int) *batch.Loop {
	return &batch.Loop{Size: size, Timeout: cmp.Or(e.BatchTimeout, DefaultBatchTimeout), Pause: cmp.Or(e.Pause, DefaultPause), Sleep: e.Sleep}
}
func (e *Engine) rowBatch() int  { return cmp.Or(e.RowBatch, DefaultRowBatch) }
func (e *Engine) maxInline() int { return cmp.Or(e.MaxInline, DefaultMaxInline) }

// checkStores fails when a sql or mongo store of the registry has no Store.
func (r *run) checkStores() error {
	for _, name := range r.reg.CollectionStores() {
		if r.e.Stores[name] == nil {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "store %s of the registry is not configured", name)
		}
	}
	return nil
}

// checkOtherStores fails when a blob, redis or processor store of the
// registry has no connector.
func (r *run) checkOtherStores() error {
	for _, name := range sortedStores(r.reg) {
		st := r.reg.Stores[name]
		var ok bool
		switch st.Kind {
		case registry.KindBlob:
			ok = r.e.Blobs[name] != nil
		case registry.KindRedis:
			ok = r.e.KeyStores[name] != nil
		case registry.KindProcessor:
			ok = r.e.Processors[name] != nil
		default:
			continue
		}
		if !ok {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "%s store %s of the registry is not configured", st.Kind, name)
		}
	}
	return nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func sortedStores(reg *registry.Registry) []string {
	out := make([]string, 0, len(reg.Stores))
	for name := range reg.Stores {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
