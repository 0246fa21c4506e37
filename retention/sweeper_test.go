package retention_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// want is what the fixture holds after a sweep at t0 with tenant s2's
// chats kept 7 days, tenant s3 held and carol held.
var want = map[string][]string{
	"users":    {"1", "2", "3"},
	"chats":    {"11", "12", "13", "30"},
	"messages": {"110", "111", "112", "120", "121", "122", "130", "131", "132", "300", "301", "302"},
	"uploads":  {"u/11b", "u/30"},
}

// setupPolicies gives the fixture its override and holds.
func setupPolicies(t *testing.T, f *fixture) {
	f.override(t, "s2", map[string]string{"app.chats": "7d"})
	f.hold(t, "s3", "")
	f.hold(t, "", "carol@example.com")
}

func TestSweepPurgesExpiredKeepsHeldAndNewer(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixture(t, driver, "")
		setupPolicies(t, f)
		run, err := f.sweeper(nil).Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != retention.StatusCompleted || !run.AsOf.Equal(t0) {
			t.Fatalf("run %s as of %s; want completed as of %s", run.Status, run.AsOf, t0)
		}
		got := f.snapshot(t)
		for table, ids := range want {
			if !slices.Equal(got[table], ids) {
				t.Errorf("%s left %v; want %v", table, got[table], ids)
			}
		}
		counts := map[string]retention.Count{}
		for _, c := range run.Counts {
			counts[c.Collection+"@"+c.Tenant] = c
		}
		// The registry's window purged chat 12 of s1: counted under s1, as
		// chats name their tenant; messages and uploads, which do not, under
		// their chat's studio: s2's two past the window with the four of
		// chats 20 and 21 that s2's window purged.
		for key, n := range map[string]int64{"app.chats@": 0, "app.chats@s1": 1, "app.chats@s2": 2, "app.messages@": 0,
			"app.messages@s1": 3, "app.messages@s2": 6, "app.uploads@": 0, "app.uploads@s1": 2} {
			if counts[key].RowsPurged != n {
				t.Errorf("%s purged %d; want %d (counts %+v)", key, counts[key].RowsPurged, n, run.Counts)
			}
		}
		// Held rows are counted per tenant likewise: carol's chat 12 under
		// s1, held s3's chat 30 under s3, and their messages and upload.
		for key, n := range map[string]int64{"app.chats@s1": 1, "app.chats@s3": 1, "app.chats@": 0, "app.messages@": 0,
			"app.messages@s1": 2, "app.messages@s3": 2, "app.uploads@": 0, "app.uploads@s3": 1} {
			if counts[key].RowsHeld != n {
				t.Errorf("%s held %d; want %d", key, counts[key].RowsHeld, n)
			}
		}
		if c := counts["app.uploads@s1"]; c.FilesPurged != 2 || c.FilesPending != 0 {
			t.Errorf("files deleted %d, pending %d; want 2 (u/10 and u/11a) and 0", c.FilesPurged, c.FilesPending)
		}
		if got := f.files(t); !slices.Equal(got, want["uploads"]) {
			t.Errorf("blob store left %v; want %v", got, want["uploads"])
		}
		// A second sweep finds nothing more.
		again, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := again.Totals().RowsPurged; n != 0 || again.Resumes != "" {
			t.Errorf("second sweep purged %d (resumes %q); want 0 and a fresh run", n, again.Resumes)
		}
	})
}

func TestDryRunChangesNothingAndCountsWhatARunWouldDo(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixture(t, driver, "")
		setupPolicies(t, f)
		before := f.snapshot(t)
		dry, err := f.sweeper(nil).Run(context.Background(), retention.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		after := f.snapshot(t)
		for table := range before {
			if !slices.Equal(before[table], after[table]) {
				t.Errorf("dry run changed %s: %v → %v", table, before[table], after[table])
			}
		}
		real, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !dry.DryRun || real.DryRun {
			t.Fatalf("dry_run flags %v %v", dry.DryRun, real.DryRun)
		}
		d, r := dry.Totals(), real.Totals()
		if d.RowsPurged != r.RowsPurged || d.RowsHeld != r.RowsHeld || d.FilesPending != r.FilesPending {
			t.Errorf("dry run counted %+v; the real run did %+v", d, r)
		}
		if real.Resumes != "" {
			t.Errorf("the real run resumed the dry run %s", real.Resumes)
		}
	})
}

// failingStore fails the Purge call number failAt with err, or cancels
// the sweep's context there when cancel is set.
type failingStore struct {
	retention.Store
	calls  atomic.Int32
	failAt int32
	err    error
	cancel context.CancelFunc
}

func (s *failingStore) Purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int) (int64, [][]any, error) {
	if s.calls.Add(1) == s.failAt {
		if s.cancel != nil {
			s.cancel()
		} else {
			return 0, nil, s.err
		}
	}
	return s.Store.Purge(ctx, sel, cols, via, limit)
}

// TestInterruptedSweepResumes interrupts a sweep part-way (by cancelling
// it, or by losing the store) and checks that it is recorded as failed
// with its error, that the next sweep resumes it, and that the end state and
// the counts equal those of one uninterrupted sweep on identical data.
func TestInterruptedSweepResumes(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		for _, how := range []string{"cancel", "store lost"} {
			t.Run(how, func(t *testing.T) {
				ref := newFixture(t, driver, "")
				setupPolicies(t, ref)
				whole, err := ref.sweeper(nil).Run(context.Background(), retention.Options{})
				if err != nil {
					t.Fatal(err)
				}

				f := newFixture(t, driver, "")
				setupPolicies(t, f)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				fs := &failingStore{Store: f.store, failAt: 4}
				if how == "cancel" {
					fs.cancel = cancel
				} else {
					fs.err = dsr.Errorf(dsr.EUNAVAILABLE, "store app is unreachable")
				}
				first, err := f.sweeper(fs).Run(ctx, retention.Options{})
				if err == nil || first == nil || first.Status != retention.StatusFailed || first.Err == nil {
					t.Fatalf("interrupted run: %+v, %v; want a failed run", first, err)
				}
				if first.Err.Code != dsr.EUNAVAILABLE || first.Totals().RowsPurged == 0 {
					t.Errorf("interrupted run recorded %+v after purging %d rows; want unavailable after some progress", first.Err, first.Totals().RowsPurged)
				}
				second, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if second.Resumes != first.ID || !second.AsOf.Equal(first.AsOf) {
					t.Errorf("second run resumes %q as of %s; want %s as of %s", second.Resumes, second.AsOf, first.ID, first.AsOf)
				}
				gotState, wantState := f.snapshot(t), ref.snapshot(t)
				for table := range wantState {
					if !slices.Equal(gotState[table], wantState[table]) {
						t.Errorf("%s: resumed sweep left %v; one sweep leaves %v", table, gotState[table], wantState[table])
					}
				}
				got, exp := sums(first, second), sums(whole)
				for col, c := range exp {
					if got[col] != c {
						t.Errorf("%s: interrupted + resumed counted %+v; one sweep %+v", col, got[col], c)
					}
				}
			})
		}
	})
}

func TestSweepRefusesWhileAnotherRuns(t *testing.T) {
	f := newFixture(t, "sqlite", "")
	block := make(chan struct{})
	started := make(chan struct{})
	bs := &blockingStore{Store: f.store, started: started, release: block}
	done := make(chan error)
	go func() {
		_, err := f.sweeper(bs).Run(context.Background(), retention.Options{})
		done <- err
	}()
	<-started
	_, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
	if dsr.ErrorCode(err) != dsr.ECONFLICT {
		t.Errorf("second sweep while one runs: %v; want conflict", err)
	}
	if _, err := f.sweeper(nil).Run(context.Background(), retention.Options{DryRun: true}); err != nil {
		t.Errorf("a dry run while a sweep runs: %v; want it to run", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type blockingStore struct {
	retention.Store
	once             atomic.Bool
	started, release chan struct{}
}

func (s *blockingStore) Purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int) (int64, [][]any, error) {
	if s.once.CompareAndSwap(false, true) {
		close(s.started)
		<-s.release
	}
	return s.Store.Purge(ctx, sel, cols, via, limit)
}

var _ = errors.New

// TestFilesWithoutBlobConnectorStayPending sweeps with no blob connector:
// the files of purged rows are listed in the run as pending.
func TestFilesWithoutBlobConnectorStayPending(t *testing.T) {
	f := newFixture(t, "sqlite", "")
	sw := f.sweeper(nil)
	sw.Files = nil
	run, err := sw.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.parts.runs.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, fl := range stored.FilesPending {
		keys = append(keys, fl.Store+":"+fl.Key)
	}
	if want := []string{"files:u/10", "files:u/11a", "files:u/30"}; !slices.Equal(keys, want) || run.Totals().FilesPending != 3 {
		t.Errorf("pending files %v (%d); want %v", keys, run.Totals().FilesPending, want)
	}
	if len(f.files(t)) != 4 {
		t.Errorf("files were deleted without a blob connector: %v left", f.files(t))
	}
}

// limitsStore records the limit of every Purge call.
type limitsStore struct {
	retention.Store
	mu     sync.Mutex
	limits []int
}

func (s *limitsStore) Purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int) (int64, [][]any, error) {
	s.mu.Lock()
	s.limits = append(s.limits, limit)
	s.mu.Unlock()
	return s.Store.Purge(ctx, sel, cols, via, limit)
}

// TestSweepSizesBatchesByTheirTime checks that a sweep aims its batches at
// BatchTarget: with a target no batch can meet, each full batch is
// followed by one half its size, and the sweep still ends as an unhurried
// one does.
func TestSweepSizesBatchesByTheirTime(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixture(t, driver, "")
		setupPolicies(t, f)
		st := &limitsStore{Store: f.store}
		sw := f.sweeper(st)
		sw.BatchSize, sw.BatchTarget = 4, time.Nanosecond
		if _, err := sw.Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI}); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(st.limits, 2) || slices.Max(st.limits) != 4 {
			t.Fatalf("batch limits %v; want batches of 4 halved after a slow full one, none above 4", st.limits)
		}
		got := f.snapshot(t)
		for table, ids := range want {
			if !slices.Equal(got[table], ids) {
				t.Errorf("%s left %v; want %v", table, got[table], ids)
			}
		}
	})
}
