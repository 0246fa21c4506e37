package state_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// outcomeExecutor returns a fixed outcome or error: a fake of the registry
// engine, which is not what these tests are about.
type outcomeExecutor struct {
	out *dsr.Outcome
	err error
}

func (e outcomeExecutor) Execute(context.Context, *dsr.Request, dsr.Journal) (*dsr.Outcome, error) {
	return e.out, e.err
}

func TestRunner(t *testing.T) {
	t.Parallel()
	const email = "Kim.Leaky@Example.com"
	type attempt struct {
		exec  dsr.Executor
		final bool
		retry bool // Run must return an error wrapping dsr.ErrRetry
	}
	cases := []struct {
		name         string
		cancel       bool // cancel before running
		attempts     []attempt
		status       dsr.Status
		code, msg    string
		counts       map[string]int64
		verification *dsr.Verification
		tries        int
		audit        []string
	}{
		{
			name:     "no registry",
			attempts: []attempt{{exec: dsr.NoRegistryExecutor{}}},
			status:   dsr.StatusFailed, code: dsr.EUNPROCESSABLE, msg: "no registry configured", tries: 1,
			audit: []string{"request.created", "request.running", "request.failed"},
		},
		{
			name: "completed",
			attempts: []attempt{{exec: outcomeExecutor{out: &dsr.Outcome{Counts: map[string]int64{"app.users": 1, "app.chats": 3},
				Verification: &dsr.Verification{Passed: true}}}}},
			status: dsr.StatusCompleted, counts: map[string]int64{"app.users": 1, "app.chats": 3},
			verification: &dsr.Verification{Passed: true}, tries: 1,
			audit: []string{"request.created", "request.running", "request.completed"},
		},
		{
			name: "verification finds records left",
			attempts: []attempt{{exec: outcomeExecutor{out: &dsr.Outcome{Counts: map[string]int64{"app.users": 1},
				Verification: &dsr.Verification{Passed: false, Remaining: 2, Found: map[string]int64{"app.chats": 2}}}}}},
			status: dsr.StatusFailed, code: dsr.ECONFLICT, msg: "verification found 2 records",
			counts: map[string]int64{"app.users": 1}, verification: &dsr.Verification{Remaining: 2, Found: map[string]int64{"app.chats": 2}},
			tries: 1, audit: []string{"request.created", "request.running", "request.failed"},
		},
		{
			name: "store down, then the last attempt",
			attempts: []attempt{
				{exec: outcomeExecutor{err: dsr.Errorf(dsr.EUNAVAILABLE, "store app is down")}, retry: true},
				{exec: outcomeExecutor{err: dsr.Errorf(dsr.EUNAVAILABLE, "store app is down")}, final: true},
			},
			status: dsr.StatusFailed, code: dsr.EUNAVAILABLE, msg: "store app is down", tries: 2,
			audit: []string{"request.created", "request.running", "request.failed"},
		},
		{
			name:     "internal error on the last attempt",
			attempts: []attempt{{exec: outcomeExecutor{err: errors.New("pq: relation users: secret internals")}, final: true}},
			status:   dsr.StatusFailed, code: dsr.EINTERNAL, msg: "internal error after retries", tries: 1,
			audit: []string{"request.created", "request.running", "request.failed"},
		},
		{
			name:     "cancelled before it ran",
			cancel:   true,
			attempts: []attempt{{exec: outcomeExecutor{err: errors.New("must not run")}}},
			status:   dsr.StatusCancelled, code: dsr.ECONFLICT, msg: "no longer wanted", tries: 0,
			audit: []string{"request.created", "request.cancelled"},
		},
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var logs testkit.Buffer
				r := b.create(t, admin, dsr.TypeErasure, email, "studio-a")
				if tc.cancel {
					if _, err := b.requests.Cancel(ctx, admin, r.ID, "no longer wanted"); err != nil {
						t.Fatal(err)
					}
				}
				for i, a := range tc.attempts {
					b.clock.Advance(time.Minute)
					runner := &dsr.Runner{Store: b.runs, Executor: a.exec, Now: b.clock.Now, Logger: jsonLogger(&logs)}
					err := runner.Run(ctx, r.ID, a.final)
					if a.retry != errors.Is(err, dsr.ErrRetry) || (!a.retry && err != nil) {
						t.Fatalf("attempt %d: Run = %v, want retry=%v", i+1, err, a.retry)
					}
					if a.retry {
						mid, _ := b.runs.Load(ctx, r.ID)
						if mid.Status != dsr.StatusRunning || mid.Email == "" {
							t.Fatalf("after a retryable attempt the request is %s (email kept: %v), want running with its email", mid.Status, mid.Email != "")
						}
					}
				}
				got, err := b.runs.Load(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tc.status || got.Attempts != tc.tries {
					t.Errorf("status %s after %d attempts, want %s after %d", got.Status, got.Attempts, tc.status, tc.tries)
				}
				if tc.code == "" && got.Err != nil || tc.code != "" && (got.Err == nil || got.Err.Code != tc.code || !strings.Contains(got.Err.Message, tc.msg)) {
					t.Errorf("error = %+v, want %s containing %q", got.Err, tc.code, tc.msg)
				}
				if got.Err != nil && strings.Contains(got.Err.Message, "secret internals") {
					t.Errorf("an internal error's text reached the request: %q", got.Err.Message)
				}
				if len(got.Counts) != len(tc.counts) {
					t.Errorf("counts %v, want %v", got.Counts, tc.counts)
				}
				for k, v := range tc.counts {
					if got.Counts[k] != v {
						t.Errorf("counts %v, want %v", got.Counts, tc.counts)
					}
				}
				if (got.Verification == nil) != (tc.verification == nil) ||
					got.Verification != nil && (got.Verification.Passed != tc.verification.Passed ||
						got.Verification.Remaining != tc.verification.Remaining || len(got.Verification.Found) != len(tc.verification.Found)) {
					t.Errorf("verification %+v, want %+v", got.Verification, tc.verification)
				}
				if tc.status.Terminal() {
					if got.FinishedAt == nil || got.Email != "" {
						t.Errorf("ended request: finished_at %v, email kept %v", got.FinishedAt, got.Email != "")
					}
					if n := b.count(t, "lethe_requests", "id = ? AND email IS NULL", r.ID); n != 1 {
						t.Error("the email column is not NULL after the request ended")
					}
				}
				entries, _ := b.audit.List(ctx, dsr.AuditFilter{RequestID: r.ID})
				var actions []string
				for _, e := range entries {
					actions = append(actions, e.Action)
					if e.Subject != subjectOf(email) {
						t.Errorf("audit %s names subject %q, want the email's HMAC", e.Action, e.Subject)
					}
				}
				if strings.Join(actions, " ") != strings.Join(tc.audit, " ") {
					t.Errorf("audit actions %v, want %v", actions, tc.audit)
				}
				if out := strings.ToLower(logs.String()); strings.Contains(out, "kim.leaky") {
					t.Errorf("the runner's log holds the email:\n%s", logs.String())
				}

				// Once ended, running it again changes nothing.
				runner := &dsr.Runner{Store: b.runs, Executor: dsr.NoRegistryExecutor{}, Now: b.clock.Now, Logger: jsonLogger(&logs)}
				if err := runner.Run(ctx, r.ID, false); err != nil {
					t.Errorf("re-running an ended request: %v", err)
				}
				if again, _ := b.runs.Load(ctx, r.ID); again.Status != got.Status || again.Attempts != got.Attempts {
					t.Errorf("re-running changed the request: %s/%d → %s/%d", got.Status, got.Attempts, again.Status, again.Attempts)
				}
			})
		}
		t.Run("unknown request", func(t *testing.T) {
			runner := &dsr.Runner{Store: b.runs, Executor: dsr.NoRegistryExecutor{}, Now: b.clock.Now, Logger: jsonLogger(&testkit.Buffer{})}
			if err := runner.Run(ctx, "0190f3a0-0000-7000-8000-000000000000", false); err != nil {
				t.Errorf("Run of an unknown request = %v, want nil (nothing to do)", err)
			}
			_, err := b.runs.Load(ctx, "0190f3a0-0000-7000-8000-000000000000")
			wantCode(t, err, dsr.ENOTFOUND)
		})
		t.Run("finish when no longer running", func(t *testing.T) {
			r := b.create(t, admin, dsr.TypeErasure, email, "")
			r.Status = dsr.StatusCompleted
			err := b.runs.Finish(ctx, r, dsr.AuditEvent{Actor: "lethe", Action: "request.completed", RequestID: r.ID})
			wantCode(t, err, dsr.ECONFLICT)
			if got, _ := b.runs.Load(ctx, r.ID); got.Status != dsr.StatusPending {
				t.Errorf("status %s, want pending", got.Status)
			}
			if n := b.count(t, "lethe_audit", "request_id = ? AND action = ?", r.ID, "request.completed"); n != 0 {
				t.Error("a refused finish was audited")
			}
		})
	})
}
