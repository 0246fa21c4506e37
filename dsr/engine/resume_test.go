package engine_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// killer interrupts an erasure at its n-th write (delete or anonymise
// batch, across both stores), as a killed process would: before the batch
// commits (the transaction is cancelled with the context) or after it
// (the batch is committed, its journal entry never written).
type killer struct {
	mu          sync.Mutex
	writes, at  int
	afterCommit bool
	cancel      context.CancelFunc
}

func (k *killer) hit(ctx context.Context) (context.Context, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.writes++
	if k.writes != k.at {
		return ctx, false
	}
	if !k.afterCommit {
		k.cancel()
	}
	return ctx, true
}

type killingStore struct {
	connector.Store
	k *killer
}

func (s killingStore) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	ctx, kill := s.k.hit(ctx)
	n, err := s.Store.Delete(ctx, sel, limit, ahead)
	if kill && err == nil {
		s.k.cancel()
		return 0, context.Canceled
	}
	return n, err
}

// DeleteEach is one write: the killer stops the run before its
// transaction commits or after.
func (s killingStore) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	ctx, kill := s.k.hit(ctx)
	ns, err := s.Store.(connector.GroupDeleter).DeleteEach(ctx, sels, limit, ahead)
	if kill && err == nil {
		s.k.cancel()
		return nil, context.Canceled
	}
	return ns, err
}

func (s killingStore) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
	ctx, kill := s.k.hit(ctx)
	n, last, err := s.Store.Anonymize(ctx, sel, a, after, limit, ahead)
	if kill && err == nil {
		s.k.cancel()
		return 0, "", context.Canceled
	}
	return n, last, err
}

// killPoint is where an interrupted erasure stops: at the store-th write
// (before it commits or, afterCommit, after), or at the journal-th save.
type killPoint struct {
	store       int
	afterCommit bool
	journal     int
}

// interrupted runs an erasure of alice@example.com with a copy of eng
// whose stores and journal stop at kp, as a killed process would, fails
// the test unless the run fails, and returns its journal to resume from.
func interrupted(t *testing.T, eng *engine.Engine, kp killPoint) *memJournal {
	t.Helper()
	return interruptedWith(t, eng, kp, erasure("alice@example.com", ""))
}

// interruptedWith is interrupted for the request req.
func interruptedWith(t *testing.T, eng *engine.Engine, kp killPoint, req *dsr.Request) *memJournal {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := &killer{at: kp.store, afterCommit: kp.afterCommit, cancel: cancel}
	if kp.store == 0 {
		k.at = -1
	}
	killed := *eng
	killed.Stores = map[string]connector.Store{}
	for name, st := range eng.Stores {
		killed.Stores[name] = killingStore{st, k}
	}
	j := newJournal()
	j.failAfter = kp.journal
	if _, err := killed.Execute(ctx, req, j); err == nil {
		t.Fatal("the interrupted run did not fail")
	}
	j.failAfter, j.held = 0, nil // a killed process loses what its journal held
	return j
}

func TestErasureResumesAfterKill(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ref := setup(t, d)
			refOut, err := ref.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			want := ref.dump(t)
			for _, kp := range []killPoint{
				// The sixth write deletes chats, newsletter and users in one
				// transaction (see connector.GroupDeleter).
				{store: 1}, {store: 2, afterCommit: true}, {store: 4}, {store: 6, afterCommit: true}, {store: 6},
				{journal: 1}, {journal: 3}, {journal: 7},
			} {
				t.Run(fmt.Sprintf("store%d-commit%v-journal%d", kp.store, kp.afterCommit, kp.journal), func(t *testing.T) {
					e := setup(t, d)
					j := interrupted(t, e.eng, kp)
					out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
					if err != nil {
						t.Fatal(err)
					}
					if !out.Verification.Passed {
						t.Errorf("verification after resume: %+v", out.Verification)
					}
					if got := e.dump(t); !equalDumps(got, want) {
						for table := range want {
							if !maps.Equal(got[table], want[table]) {
								t.Errorf("table %s differs from the uninterrupted run:\n got %v\nwant %v", table, got[table], want[table])
							}
						}
					}
					if !maps.Equal(out.Counts, refOut.Counts) {
						t.Errorf("counts %v, uninterrupted %v", out.Counts, refOut.Counts)
					}
				})
			}
		})
	}
}

// TestKilledBetweenBatchAndJournalCountsOnce kills the erasure right after
// a batch is written, before the journal records it (a committed write, or
// a failed journal write), batches of one row each, and requires the
// resumed run to state the same counts as the uninterrupted one: the batch
// was journaled ahead of its write and is counted once, neither lost nor
// found again.
func TestKilledBetweenBatchAndJournalCountsOnce(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ref := setup(t, d)
			ref.eng.BatchSize, ref.eng.RowBatch = 1, 1
			refOut, err := ref.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			want := ref.dump(t)
			for _, kp := range []killPoint{{store: 2, afterCommit: true}, {store: 3, afterCommit: true}, {store: 4, afterCommit: true}, {store: 7, afterCommit: true}, {journal: 6}} {
				t.Run(fmt.Sprintf("store%d-journal%d", kp.store, kp.journal), func(t *testing.T) {
					e := setup(t, d)
					e.eng.BatchSize, e.eng.RowBatch = 1, 1
					j := interrupted(t, e.eng, kp)
					out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
					if err != nil {
						t.Fatal(err)
					}
					if !maps.Equal(out.Counts, refOut.Counts) {
						t.Errorf("counts %v, uninterrupted %v", out.Counts, refOut.Counts)
					}
					if !out.Verification.Passed || !equalDumps(e.dump(t), want) {
						t.Errorf("verification %+v; the rows differ from the uninterrupted run: %v", out.Verification, !equalDumps(e.dump(t), want))
					}
				})
			}
		})
	}
}

func TestStoreUnreachable(t *testing.T) {
	reg, err := registry.Parse([]byte(fmt.Sprintf(testRegistry, registry.DriverPostgres)))
	if err != nil {
		t.Fatal(err)
	}
	stores, err := sqlstore.OpenRegistry(reg, func(name string) string {
		return map[string]string{
			"APP_DSN":     "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
			"BILLING_DSN": "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	eng := engine.New(reg, stores.Engine(), dsr.NewSubjectHasher([]byte("k")))
	eng.Blobs = fileBlobs(t)
	_, err = eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
	if dsr.ErrorCode(err) != dsr.EUNAVAILABLE || dsr.ErrorMessage(err) != "store app is unreachable" {
		t.Errorf("err = %v (code %s, message %q)", err, dsr.ErrorCode(err), dsr.ErrorMessage(err))
	}
	if _, err := sqlstore.OpenRegistry(reg, func(string) string { return "" }); err == nil {
		t.Error("OpenRegistry with no DSN succeeded")
	}
}

// TestRowWrittenDuringErasureIsErased writes a row for the person into a
// collection that held none of hers when the erasure started (her
// newsletter row), while an earlier collection is being erased: the
// erasure deletes it too and verification passes, instead of skipping
// the collection for the count taken at the start.
func TestRowWrittenDuringErasureIsErased(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			testkit.Exec(t, e.app, `DELETE FROM newsletter WHERE lower(email) = ?`, "alice@example.com")
			j := newJournal()
			var once sync.Once
			wrote := false
			j.onSave = func(s dsr.Step) {
				if s.Name == "erase app.newsletter" || !strings.HasPrefix(s.Name, "erase app.messages") {
					return
				}
				once.Do(func() {
					testkit.Exec(t, e.app, `INSERT INTO newsletter (email, note) VALUES (?, ?)`, "alice@example.com", "came back")
					wrote = true
				})
			}
			out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
			if err != nil {
				t.Fatal(err)
			}
			if !wrote {
				t.Fatal("the newsletter row was never written: no app.messages step was saved")
			}
			if !out.Verification.Passed {
				t.Errorf("verification: %+v", out.Verification)
			}
			if got := out.Counts["app.newsletter"]; got != 1 {
				t.Errorf("app.newsletter counted %d; want the 1 row written during the erasure", got)
			}
		})
	}
}

// groupRecorder records the selections an erasure deletes, one call at a
// time: several collections in one DeleteEach call, or one in Delete.
type groupRecorder struct {
	connector.Store
	mu    sync.Mutex
	calls [][]string
}

func (s *groupRecorder) record(sels ...connector.Selection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, sel := range sels {
		keys = append(keys, sel.Collection.Key)
	}
	s.calls = append(s.calls, keys)
}

func (s *groupRecorder) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	s.record(sel)
	return s.Store.Delete(ctx, sel, limit, ahead)
}

func (s *groupRecorder) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	s.record(sels...)
	return s.Store.(connector.GroupDeleter).DeleteEach(ctx, sels, limit, ahead)
}

// TestSmallCollectionsDeletedInOneTransaction: the collections deleted one
// after the other on one store, each one pass and fewer rows than a batch
// (chats, users and newsletter, between the uploads' files before them and
// nothing after), are deleted in one call, one transaction and one commit,
// with the counts and rows of deletes one by one (batches of one row
// each). Messages, more rows than a batch, go first in the group, which
// takes a whole batch of them and is taken back: they are deleted batch
// by batch, then the rest of the group at once.
func TestSmallCollectionsDeletedInOneTransaction(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ref := setup(t, d)
			ref.eng.BatchSize, ref.eng.RowBatch = 1, 1
			refOut, err := ref.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			e := setup(t, d)
			rec := &groupRecorder{Store: e.app}
			e.eng.Stores = map[string]connector.Store{"app": rec, "billing": e.billing}
			out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			want := [][]string{{"app.uploads"}, {"app.messages", "app.chats", "app.users", "app.newsletter"}, {"app.messages"}, {"app.messages"}, {"app.chats", "app.users", "app.newsletter"}}
			if !slices.EqualFunc(rec.calls, want, slices.Equal) {
				t.Errorf("deletes %q; want %q", rec.calls, want)
			}
			if !maps.Equal(out.Counts, refOut.Counts) || !out.Verification.Passed {
				t.Errorf("counts %v (verification %+v); one by one %v", out.Counts, out.Verification, refOut.Counts)
			}
			if !equalDumps(e.dump(t), ref.dump(t)) {
				t.Error("the rows left differ from deletes one by one")
			}
		})
	}
}
