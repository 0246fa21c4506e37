package dsr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// memStore is the Runner's ExecutionStore in memory: one request, the
// status transitions the Runner asks for, and the audit events it records.
type memStore struct {
	req      *Request
	steps    []Step
	finished []AuditEvent
	finish   error // returned by Finish
}

func (s *memStore) Load(context.Context, string) (*Request, error) { return s.req, nil }

func (s *memStore) Start(_ context.Context, id string, now time.Time) (*Request, Journal, error) {
	if s.req == nil || s.req.ID != id {
		return nil, nil, Errorf(ENOTFOUND, "request %s: not found", id)
	}
	if s.req.Status.Terminal() {
		return nil, nil, Errorf(ECONFLICT, "request %s is %s", id, s.req.Status)
	}
	s.req.Status, s.req.StartedAt = StatusRunning, &now
	s.req.Attempts++
	copied := *s.req
	return &copied, s.Journal(id), nil
}

func (s *memStore) Finish(_ context.Context, r *Request, ev AuditEvent) error {
	if s.finish != nil {
		return s.finish
	}
	s.req, s.finished = r, append(s.finished, ev)
	return nil
}

func (s *memStore) Journal(string) Journal { return memJournal{s} }

// memJournal answers the steps of its store; the Runner reads no more.
type memJournal struct{ s *memStore }

func (j memJournal) Steps(context.Context) ([]Step, error)              { return j.s.steps, nil }
func (j memJournal) SaveStep(context.Context, Step) error               { return nil }
func (j memJournal) FreezeKeys(context.Context, string, []string) error { return nil }
func (j memJournal) FrozenKeys(context.Context, string, string, int) ([]string, error) {
	return nil, nil
}
func (j memJournal) Snapshot(_ context.Context, data []byte) ([]byte, error) { return data, nil }

// executorFunc adapts a function to Executor.
type executorFunc func(ctx context.Context, req *Request, j Journal) (*Outcome, error)

func (f executorFunc) Execute(ctx context.Context, req *Request, j Journal) (*Outcome, error) {
	return f(ctx, req, j)
}

// endObserver records the requests it is told of.
type endObserver struct{ ended []Status }

func (o *endObserver) RequestEnded(_ context.Context, r *Request) error {
	o.ended = append(o.ended, r.Status)
	return errors.New("mail server down") // only logged
}

// holdList is a HoldChecker with fixed holds.
type holdList []HeldBy

func (h holdList) HoldsOn(context.Context, *Request) ([]HeldBy, error) { return h, nil }

var runnerNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newRunner(store *memStore, exec Executor) (*Runner, *endObserver) {
	obs := &endObserver{}
	return &Runner{Store: store, Executor: exec, Now: func() time.Time { return runnerNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observer: obs}, obs
}

func pending(typ Type) *memStore {
	return &memStore{req: &Request{ID: "r1", Type: typ, Status: StatusPending, Subject: "subj"}}
}

// TestRunnerEndsRequests: what each outcome of an execution makes of the
// request, whether the queue retries it, what the trail records and
// whether the person is told.
func TestRunnerEndsRequests(t *testing.T) {
	verified := &Verification{Passed: true}
	for _, tc := range []struct {
		name       string
		out        *Outcome
		err        error
		final      bool
		retry      bool
		wantStatus Status
		wantCode   string
	}{
		{name: "done and verified", out: &Outcome{Counts: map[string]int64{"app.users": 1}, Verification: verified},
			wantStatus: StatusCompleted},
		{name: "verification finds rows", out: &Outcome{Verification: &Verification{Remaining: 2}},
			wantStatus: StatusFailed, wantCode: ECONFLICT},
		{name: "store down, attempts left", err: Errorf(EUNAVAILABLE, "store app is unreachable"),
			retry: true, wantStatus: StatusRunning},
		{name: "store down, last attempt", err: Errorf(EUNAVAILABLE, "store app is unreachable"), final: true,
			wantStatus: StatusFailed, wantCode: EUNAVAILABLE},
		{name: "a bug, attempts left", err: errors.New("nil map"), retry: true, wantStatus: StatusRunning},
		{name: "a bug, last attempt", err: errors.New("nil map"), final: true,
			wantStatus: StatusFailed, wantCode: EINTERNAL},
		{name: "refused by the registry", err: Errorf(EUNPROCESSABLE, "collection app.users: no identity"),
			wantStatus: StatusFailed, wantCode: EUNPROCESSABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := pending(TypeErasure)
			r, obs := newRunner(store, executorFunc(func(context.Context, *Request, Journal) (*Outcome, error) {
				return tc.out, tc.err
			}))
			err := r.Run(context.Background(), "r1", tc.final)
			if got := errors.Is(err, ErrRetry); got != tc.retry {
				t.Fatalf("Run = %v; retry %v, want %v", err, got, tc.retry)
			}
			if store.req.Status != tc.wantStatus {
				t.Fatalf("status %s; want %s", store.req.Status, tc.wantStatus)
			}
			if tc.retry {
				if len(store.finished) != 0 || len(obs.ended) != 0 {
					t.Fatalf("a retried attempt recorded an end (%d) or told the person (%d)", len(store.finished), len(obs.ended))
				}
				return
			}
			if len(store.finished) != 1 || store.finished[0].Action != "request."+string(tc.wantStatus) {
				t.Fatalf("audit events %+v; want one request.%s", store.finished, tc.wantStatus)
			}
			if store.req.FinishedAt == nil || !store.req.FinishedAt.Equal(runnerNow) {
				t.Errorf("finished at %v; want the Runner's now", store.req.FinishedAt)
			}
			if code := ""; store.req.Err != nil {
				code = store.req.Err.Code
				if code != tc.wantCode {
					t.Errorf("error code %s; want %s", code, tc.wantCode)
				}
			} else if tc.wantCode != "" {
				t.Errorf("no error; want %s", tc.wantCode)
			}
			if tc.wantCode == EINTERNAL && store.req.Err.Message == "nil map" {
				t.Error("an internal error's text reached the request")
			}
			if len(obs.ended) != 1 || obs.ended[0] != tc.wantStatus {
				t.Errorf("observer told %v; want %s once (its failure only logged)", obs.ended, tc.wantStatus)
			}
		})
	}
}

// TestRunnerTakenOver: an attempt whose request another process took over
// stops without recording an end, retrying, or telling anyone.
func TestRunnerTakenOver(t *testing.T) {
	for _, where := range []string{"execute", "finish"} {
		t.Run(where, func(t *testing.T) {
			store := pending(TypeAccess)
			exec := executorFunc(func(context.Context, *Request, Journal) (*Outcome, error) {
				if where == "execute" {
					return nil, ErrTakenOver
				}
				return &Outcome{}, nil
			})
			if where == "finish" {
				store.finish = ErrTakenOver
			}
			r, obs := newRunner(store, exec)
			if err := r.Run(context.Background(), "r1", false); err != nil {
				t.Fatalf("Run = %v; want nil (not retried)", err)
			}
			if store.req.Status != StatusRunning || len(store.finished) != 0 || len(obs.ended) != 0 {
				t.Errorf("status %s, %d ends recorded, %d told; want running, none, none", store.req.Status, len(store.finished), len(obs.ended))
			}
		})
	}
}

// TestRunnerSkipsEndedRequests: a request that is already ended (say
// cancelled while queued) or unknown is not run and not retried.
func TestRunnerSkipsEndedRequests(t *testing.T) {
	store := pending(TypeErasure)
	store.req.Status = StatusCancelled
	ran := false
	r, _ := newRunner(store, executorFunc(func(context.Context, *Request, Journal) (*Outcome, error) {
		ran = true
		return &Outcome{}, nil
	}))
	for _, id := range []string{"r1", "unknown"} {
		if err := r.Run(context.Background(), id, false); err != nil || ran {
			t.Errorf("Run(%s) = %v, executed %v; want nil and not executed", id, err, ran)
		}
	}
}

// touches is a TenantProbe: the subject has records in these tenants.
type touches map[string]bool

func (p touches) Touches(_ context.Context, _, tenant string) (bool, error) { return p[tenant], nil }

// probingExecutor is an Executor that is also a TenantProbe, as the
// registry engine is.
type probingExecutor struct {
	executorFunc
	touches
}

// TestRunnerDeniesHeldErasures: a hold on the person, or on the request's
// tenant, denies an erasure before anything is touched; a hold on another
// tenant denies an erasure across all tenants only if the person has
// records there; an erasure already under way is finished; access is
// never denied.
func TestRunnerDeniesHeldErasures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     Type
		tenant  string
		holds   holdList
		touches touches
		steps   []Step
		denied  bool
	}{
		{name: "hold on the person", typ: TypeErasure, holds: holdList{{ID: "h1", Subject: true}}, denied: true},
		{name: "hold on the tenant", typ: TypeErasure, tenant: "acme", holds: holdList{{ID: "h1", Tenant: "acme"}}, denied: true},
		{name: "hold on every tenant", typ: TypeErasure, tenant: "acme", holds: holdList{{ID: "h1"}}, denied: true},
		{name: "across tenants, held one touched", typ: TypeErasure, holds: holdList{{ID: "h1", Tenant: "acme"}},
			touches: touches{"acme": true}, denied: true},
		{name: "across tenants, held one untouched", typ: TypeErasure, holds: holdList{{ID: "h1", Tenant: "acme"}},
			touches: touches{"globex": true}},
		{name: "hold placed after the erasure started", typ: TypeErasure, holds: holdList{{ID: "h1", Subject: true}},
			steps: []Step{{Name: "app.users", Status: "done"}}},
		{name: "access under a hold", typ: TypeAccess, holds: holdList{{ID: "h1", Subject: true}}},
		{name: "no hold", typ: TypeErasure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := pending(tc.typ)
			store.req.Tenant, store.steps = tc.tenant, tc.steps
			executed := false
			exec := probingExecutor{executorFunc(func(context.Context, *Request, Journal) (*Outcome, error) {
				executed = true
				return &Outcome{Verification: &Verification{Passed: true}}, nil
			}), tc.touches}
			r, obs := newRunner(store, exec)
			r.Holds = tc.holds
			if err := r.Run(context.Background(), "r1", false); err != nil {
				t.Fatal(err)
			}
			if tc.denied {
				if executed || store.req.Status != StatusDenied || store.finished[0].Action != "request.denied" {
					t.Fatalf("executed %v, status %s; want denied before execution", executed, store.req.Status)
				}
				if len(obs.ended) != 1 {
					t.Errorf("the person was told %d times of the denial; want once", len(obs.ended))
				}
				return
			}
			if !executed || store.req.Status != StatusCompleted {
				t.Fatalf("executed %v, status %s; want completed", executed, store.req.Status)
			}
		})
	}
}
