package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// letheState is Lethe's own state store on the benchmark's Postgres, in a
// schema of its own: each erasure is filed and run through the dsr.Runner
// as the service runs it (request row, journal, frozen keys, audit
// certificate), so Lethe's side of a ratio pays for its bookkeeping too.
type letheState struct {
	db        *state.DB
	requests  *state.RequestService
	execution *state.ExecutionStore
	schema    string
	drop      func()
	// stmts counts the state store's statements (gorm's; transactions'
	// BEGIN and COMMIT are not among them).
	stmts *statements
}

// stateApp names the state store's Postgres connections, for CPU figures.
const stateApp = "lethebench_state"

var stateDialect = flag.String("state", state.Postgres, "Lethe's own state store in the benchmarks: postgres or sqlite")

func (b *bench) openState(ctx context.Context) (*letheState, error) {
	schema := "lethebench_state_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := b.admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	u, err := url.Parse(b.base)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn, dir := withApp(u.String(), stateApp), ""
	if *stateDialect == state.SQLite {
		if dir, err = os.MkdirTemp("", "lethebench-state"); err != nil {
			return nil, err
		}
		dsn = "sqlite://" + filepath.Join(dir, "state.db")
	}
	db, err := state.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	stmts := &statements{name: "state"}
	db.SetLogger(stmts)
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte("bench-subject-key")), Audit: audit,
		// The benchmark runs each request itself instead of through the queue.
		Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
	ls := &letheState{db: db, requests: requests, execution: &state.ExecutionStore{DB: db, Audit: audit, Requests: requests}, schema: schema, stmts: stmts}
	ls.drop = func() {
		db.Close()
		b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	return ls, nil
}

// erase files an erasure of email and runs it with eng through the Runner;
// it fails unless the request completes verified.
func (ls *letheState) erase(ctx context.Context, eng *engine.Engine, email string) (*dsr.Outcome, error) {
	r, _, err := ls.requests.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: email})
	if err != nil {
		return nil, err
	}
	var ended endedRequest
	runner := &dsr.Runner{Store: ls.execution, Executor: eng, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observer: &ended}
	if err := runner.Run(ctx, r.ID, true); err != nil {
		return nil, err
	}
	done := ended.r
	if done == nil {
		return nil, fmt.Errorf("erasure %s did not end", r.ID)
	}
	if done.Status != dsr.StatusCompleted || done.Verification == nil || !done.Verification.Passed {
		return nil, fmt.Errorf("erasure ended %s: %+v %+v", done.Status, done.Err, done.Verification)
	}
	return &dsr.Outcome{Counts: done.Counts, Verification: done.Verification}, nil
}

// endedRequest keeps the request the Runner ended, as stored, so that the
// benchmark checks it without reading it back.
type endedRequest struct{ r *dsr.Request }

func (e *endedRequest) RequestEnded(_ context.Context, r *dsr.Request) error {
	e.r = r
	return nil
}
