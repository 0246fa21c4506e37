package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// services are Lethe's own stores over one state DB, each built once with
// everything it needs: lethe serve and the commands share them.
type services struct {
	Hasher    *dsr.SubjectHasher
	Audit     *state.AuditLog
	Requests  *state.RequestService
	Execution *state.ExecutionStore
	Keys      *state.KeyService
	Tenants   *state.Tenants
	Self      *state.SelfStore
	Exports   *state.ExportStore
	Runs      *state.RetentionRuns
	Holds     *state.Holds
	Settings  *state.TenantSettings
	// Copies is what an erasure removes of its person from Lethe's own
	// state store (pkg/export adds the packages' bucket).
	Copies *state.Copies
	// Redactors derive from the subject key, so no other secret is needed.
	Redactors *redact.Keyring
	// Life is the liveness of lethe serve's process; nil for a command.
	Life *liveness
}

// newServices builds the stores over db with the subject key of cfg
// (already checked to be long enough) and the keys it replaced, and the audit anchor (nil: the trail is not
// anchored). enq queues the jobs of requests and
// retention runs; nil for a command that queues nothing, whose stores then
// refuse to queue. life is lethe serve's liveness, nil for a command.
// Errors: the redaction keys cannot be derived.
func newServices(db *state.DB, cfg Config, enq *queue.Enqueuer, anchor *state.Anchor, life *liveness) (*services, error) {
	hasher, err := cfg.subjectHasher()
	if err != nil {
		return nil, err
	}
	keys, err := redact.NewKeyring([]byte(cfg.SubjectKey))
	if err != nil {
		return nil, fmt.Errorf("redaction keys: %w", err)
	}
	var enqueue, enqueueRun func(ctx context.Context, tx *sql.Tx, id string) error
	if enq != nil {
		enqueue, enqueueRun = enq.Request, enq.Retention
	}
	audit := &state.AuditLog{DB: db, Anchor: anchor}
	requests := &state.RequestService{DB: db, Subject: hasher, Audit: audit, Enqueue: enqueue}
	self := &state.SelfStore{DB: db, Audit: audit, Requests: requests, Enqueue: enqueue}
	var process string
	var processes *state.Processes
	if life != nil {
		process, processes = life.Process.ID, life.Processes
	}
	return &services{
		Hasher:    hasher,
		Audit:     audit,
		Requests:  requests,
		Execution: &state.ExecutionStore{DB: db, Audit: audit, Requests: requests, Process: process},
		Keys:      &state.KeyService{DB: db, Audit: audit},
		Tenants:   &state.Tenants{DB: db, Audit: audit, Subject: hasher},
		Self:      self,
		Exports:   &state.ExportStore{DB: db},
		Runs: &state.RetentionRuns{DB: db, Audit: audit, Subject: hasher, Enqueue: enqueueRun,
			Process: process, Processes: processes},
		Holds:     &state.Holds{DB: db, Audit: audit, SubjectKey: hasher.KeyID()},
		Settings:  &state.TenantSettings{DB: db, Audit: audit},
		Redactors: keys,
		Copies:    &state.Copies{DB: db, Self: self},
		Life:      life,
	}, nil
}

// liveness is who this lethe serve process is to the others: its heartbeat
// row, kept in the requests and retention runs it starts, so that a live
// process resumes them once it stops beating (pkg/queue's lifeline).
type liveness struct {
	Process   state.Process
	Processes *state.Processes
	Every     time.Duration // how often it beats
	// Exclusive: it serves a SQLite store alone, under state.LockServe.
	Exclusive bool
}
