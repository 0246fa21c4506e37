package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRunKindsDoNotBlockEachOther: a responses run and a retention run may
// run at once; a second real run of the same kind conflicts; a failed
// responses run is resumed by the next responses run only; runs list by kind.
func TestRunKindsDoNotBlockEachOther(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		runs := &state.RetentionRuns{DB: b.db, Audit: b.audit, Subject: b.hasher}
		begin := func(kind string) (*retention.Run, error) {
			return runs.Begin(ctx, retention.Begin{Kind: kind, Trigger: retention.TriggerSchedule, Actor: "schedule",
				Now: b.clock.Now(), StaleAfter: time.Hour})
		}
		resp, err := begin(retention.KindResponses)
		if err != nil || resp.Kind != retention.KindResponses {
			t.Fatalf("responses run: %+v %v", resp, err)
		}
		ret, err := begin("")
		if err != nil || ret.Kind != retention.KindRetention {
			t.Fatalf("retention run beside a responses run: %+v %v", ret, err)
		}
		if _, err := begin(retention.KindResponses); dsr.ErrorCode(err) != dsr.ECONFLICT {
			t.Fatalf("second responses run: %v; want ECONFLICT", err)
		}
		resp.Status, resp.Err = retention.StatusFailed, dsr.Errorf(dsr.EUNAVAILABLE, "store app is unreachable")
		if err := runs.Finish(ctx, resp); err != nil {
			t.Fatal(err)
		}
		ret.Status = retention.StatusCompleted
		if err := runs.Finish(ctx, ret); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(time.Minute)
		if next, err := begin(""); err != nil || next.Resumes != "" {
			t.Fatalf("retention run resumed %q (%v); runs of another kind are not its to resume", next.Resumes, err)
		} else {
			next.Status = retention.StatusCompleted
			if err := runs.Finish(ctx, next); err != nil {
				t.Fatal(err)
			}
		}
		next, err := begin(retention.KindResponses)
		if err != nil || next.Resumes != resp.ID {
			t.Fatalf("responses run resumes %q (%v); want %s", next.Resumes, err, resp.ID)
		}
		page, err := runs.Runs(ctx, retention.RunFilter{Kind: retention.KindResponses})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("responses runs: %+v %v", page, err)
		}
		if last, err := runs.LastFinished(ctx); err != nil || last == nil {
			t.Fatalf("last retention run: %v %v", last, err)
		}
	})
}

// TestSettingsDefaultsAndNotCollecting: a tenant never set collects
// responses; turning collection off lists the tenant and audits it.
func TestSettingsDefaultsAndNotCollecting(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		s := &state.TenantSettings{DB: b.db, Audit: b.audit}
		st, err := s.Settings(ctx, "calm-mind")
		if err != nil || !st.CollectResponses || st.ObfuscateHistory {
			t.Fatalf("defaults: %+v %v", st, err)
		}
		st.CollectResponses, st.ObfuscateHistory = false, true
		if _, err := s.PutSettings(ctx, "admin", st); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutSettings(ctx, "admin", &retention.Settings{Tenant: "career-coach", CollectResponses: true, Retention: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Settings(ctx, "calm-mind")
		if err != nil || got.CollectResponses || !got.ObfuscateHistory {
			t.Fatalf("stored: %+v %v", got, err)
		}
		tenants, err := s.NotCollecting(ctx)
		if err != nil || len(tenants) != 1 || tenants[0] != "calm-mind" {
			t.Fatalf("not collecting: %v %v", tenants, err)
		}
		if n := b.count(t, "lethe_audit", "action = ?", "settings.collect_responses.disabled"); n != 1 {
			t.Errorf("%d audit entries for disabling collection; want 1", n)
		}
	})
}

// TestUpdateSettingsSerialisesMerges: a partial update that starts while
// another is being stored sees the other's result, so neither undoes the
// other (one turns collection off, the other obfuscation on).
func TestUpdateSettingsSerialisesMerges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		s := &state.TenantSettings{DB: b.db, Audit: b.audit}
		second := make(chan error, 1)
		waitingForLock := lockWaiter(b)
		_, err := s.UpdateSettings(ctx, "admin", "calm-mind", func(cur *retention.Settings) (*retention.Settings, error) {
			go func() { // a concurrent PUT of another field
				_, err := s.UpdateSettings(ctx, "key:other", "calm-mind", func(cur *retention.Settings) (*retention.Settings, error) {
					next := *cur
					next.ObfuscateHistory = true
					return &next, nil
				})
				second <- err
			}()
			waitingForLock(t) // the other update now waits for this one
			next := *cur
			next.CollectResponses = false
			return &next, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		got, err := s.Settings(ctx, "calm-mind")
		if err != nil || got.CollectResponses || !got.ObfuscateHistory {
			t.Fatalf("settings = %+v %v; want collection off and obfuscation on: one update undid the other", got, err)
		}
	})
}

// lockWaiter returns a function that returns once a transaction of b's
// store began after lockWaiter waits for a lock: on Postgres a backend
// waiting on a lock, on SQLite (one connection) a caller waiting for the
// connection.
func lockWaiter(b *bundle) func(t *testing.T) {
	before := b.db.SQL.Stats().WaitCount
	waiting := func() error {
		if b.db.SQL.Stats().WaitCount == before {
			return errors.New("none waits for the connection")
		}
		return nil
	}
	if b.dialect == state.Postgres {
		waiting = func() error {
			var n int
			err := b.db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
			if err == nil && n == 0 {
				err = errors.New("no backend waits for a lock")
			}
			return err
		}
	}
	return func(t *testing.T) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, "a second transaction waiting", waiting)
	}
}
