package engine_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// stateStmt is a statement the state store ran, with the pool it ran on.
type stateStmt struct {
	durable bool // on Postgres, run on Gorm (not on Progress)
	text    string
}

// stateLog records the statements of a state store's pools in order.
type stateLog struct {
	mu    sync.Mutex
	stmts []stateStmt
}

type poolLogger struct {
	logger.Interface
	log     *stateLog
	durable bool
}

func (l poolLogger) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	l.log.mu.Lock()
	l.log.stmts = append(l.log.stmts, stateStmt{durable: l.durable, text: q})
	l.log.mu.Unlock()
}

func (l *stateLog) since(n int) []stateStmt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]stateStmt(nil), l.stmts[n:]...)
}

func (l *stateLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.stmts)
}

// durable reports whether statement i of stmts commits durably: on
// Postgres, run on the durable pool; on SQLite, not between PRAGMA
// synchronous = NORMAL and FULL (see state.DB.Progress).
func durable(dialect string, stmts []stateStmt, i int) bool {
	if dialect == "postgres" {
		return stmts[i].durable
	}
	for k := i - 1; k >= 0; k-- {
		switch {
		case strings.HasPrefix(stmts[k].text, "PRAGMA synchronous = NORMAL"):
			return false
		case strings.HasPrefix(stmts[k].text, "PRAGMA synchronous = FULL"):
			return true
		}
	}
	return true
}

// stateEnv is a state store of one dialect, its statements logged, with
// the Runner of its requests.
type stateEnv struct {
	dialect string
	db      *state.DB
	reqs    *state.RequestService
	runs    *state.ExecutionStore
	log     *stateLog
}

func openState(t *testing.T, dialect string) *stateEnv {
	t.Helper()
	db, err := state.Open(context.Background(), testkit.StateURL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	audit := &state.AuditLog{DB: db}
	reqs := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte("k")), Audit: audit,
		Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
	s := &stateEnv{dialect: dialect, db: db, reqs: reqs, log: &stateLog{},
		runs: &state.ExecutionStore{DB: db, Audit: audit, Requests: reqs, Process: "lethe-test"}}
	db.Gorm.Logger = poolLogger{Interface: logger.Discard, log: s.log, durable: true}
	if db.Progress() != db.Gorm {
		db.Progress().Logger = poolLogger{Interface: logger.Discard, log: s.log}
	}
	return s
}

// run files an erasure of email and runs it with exec to its end; it
// returns the request ended and the statements of its run.
func (s *stateEnv) run(t *testing.T, exec dsr.Executor, email string) (*dsr.Request, []stateStmt) {
	t.Helper()
	ctx := context.Background()
	r, _, err := s.reqs.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	runner := &dsr.Runner{Store: s.runs, Executor: exec, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	from := s.log.len()
	if err := runner.Run(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	stmts := s.log.since(from)
	got, err := s.runs.Load(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dsr.StatusCompleted {
		t.Fatalf("request %s: %+v", got.Status, got.Err)
	}
	return got, stmts
}

// hasValue reports whether statement text holds value as a literal (the
// statement logger quotes them in single quotes on Postgres, double
// quotes on SQLite).
func hasValue(text, value string) bool {
	return strings.Contains(text, "'"+value+"'") || strings.Contains(text, `"`+value+`"`)
}

// aheadOf matches the statement that journals step name running.
func aheadOf(name string) *regexp.Regexp {
	return regexp.MustCompile(`["']` + regexp.QuoteMeta(name) + `["'], \(SELECT COALESCE\(MAX\(seq\), 0\) \+ \d+ FROM lethe_request_steps WHERE request_id = ["'][^"']+["']\), ["']running["']`)
}

// freezeStored reports whether the freeze step of a request is stored, as
// any other connection reads it, and whether the statement that stored it
// commits durably.
func (s *stateEnv) freezeStored(t *testing.T) (stored, durably bool) {
	t.Helper()
	stmts := s.log.since(0)
	at := -1
	for i, st := range stmts {
		if hasValue(st.text, "freeze") && strings.Contains(st.text, "lethe_request_steps") {
			at = i
		}
	}
	var n int64
	if err := s.db.SQL.QueryRow("SELECT count(*) FROM lethe_request_steps WHERE name = 'freeze'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1 && at >= 0, at >= 0 && durable(s.dialect, stmts, at)
}

// firstWrite is the application's store, which checks before its first
// write that the freeze step is stored durably.
type firstWrite struct {
	*sqlstore.Store
	t       *testing.T
	st      *stateEnv
	once    sync.Once
	checked bool
}

func (s *firstWrite) check() {
	s.once.Do(func() {
		s.checked = true
		if stored, durably := s.st.freezeStored(s.t); !stored || !durably {
			s.t.Errorf("the application's first write came with the freeze step stored %v, durably %v; want both", stored, durably)
		}
	})
}

func (s *firstWrite) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	s.check()
	return s.Store.Delete(ctx, sel, limit, ahead)
}

// DeleteEach checks before its transaction commits: the deletes are done
// by then, but taken back unless ahead (which journals them) succeeds.
func (s *firstWrite) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	if ahead == nil {
		s.check()
		return s.Store.DeleteEach(ctx, sels, limit, nil)
	}
	return s.Store.DeleteEach(ctx, sels, limit, func(ns []int64) error {
		if err := ahead(ns); err != nil {
			return err
		}
		s.check()
		return nil
	})
}

func (s *firstWrite) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
	if ahead == nil {
		s.check()
		return s.Store.Anonymize(ctx, sel, a, after, limit, nil)
	}
	return s.Store.Anonymize(ctx, sel, a, after, limit, func(last string, n int64) error {
		if err := ahead(last, n); err != nil {
			return err
		}
		s.check()
		return nil
	})
}

// TestFreezeRidesOnTheJournalAhead: on a request's first attempt, the
// freeze step (with the enrichment, the snapshot and the frozen keys) is
// stored by the statement that journals the grouped delete ahead, which
// commits durably before the delete does, on Postgres one statement.
func TestFreezeRidesOnTheJournalAhead(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		app, eng := setupCounter(t, "sqlite", "")
		st := openState(t, dialect)
		w := &firstWrite{Store: app, t: t, st: st}
		eng.Stores = map[string]connector.Store{"app": w}
		_, stmts := st.run(t, eng, "ada@example.com")
		if !w.checked {
			t.Fatal("the erasure wrote nothing")
		}
		var freeze, ahead []int
		for i, s := range stmts {
			if hasValue(s.text, "freeze") {
				freeze = append(freeze, i)
			}
			if aheadOf("erase app.accounts").MatchString(s.text) {
				ahead = append(ahead, i)
			}
		}
		if len(freeze) != 1 || len(ahead) != 1 || !durable(dialect, stmts, freeze[0]) {
			t.Fatalf("the freeze step in statements %v, the journal-ahead in %v (durable %v); want one each, durable", freeze, ahead, len(freeze) == 1 && durable(dialect, stmts, freeze[0]))
		}
		switch {
		case dialect == "postgres" && freeze[0] != ahead[0]:
			t.Errorf("the freeze step and the journal-ahead in two statements: %q, %q", stmts[freeze[0]].text, stmts[ahead[0]].text)
		case dialect == "postgres" && !strings.Contains(stmts[freeze[0]].text, "lethe_request_keys"):
			t.Errorf("the frozen keys are not in the freeze step's statement %q", stmts[freeze[0]].text)
		case dialect == "sqlite" && (ahead[0] < freeze[0] || !durable(dialect, stmts, ahead[0])):
			t.Errorf("the journal-ahead (statement %d) not stored durably after the freeze step (%d)", ahead[0], freeze[0])
		}
		if dialect == "postgres" {
			// The start, the freeze with the grouped delete journaled
			// ahead, the end with the verification.
			if len(stmts) != 3 {
				var text []string
				for _, s := range stmts {
					text = append(text, s.text)
				}
				t.Errorf("the erasure ran %d statements on the state store; want 3:\n%s", len(stmts), strings.Join(text, "\n"))
			}
		}
	})
}

// TestNothingChangesBeforeTheFreezeIsDurable: an erasure whose first
// change (a mention rewritten in another person's row) is journaled by no
// step ahead stores its held freeze step durably before it.
func TestNothingChangesBeforeTheFreezeIsDurable(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		e := setupMentions(t, "sqlite")
		st := openState(t, dialect)
		w := &firstWrite{Store: e.app, t: t, st: st}
		e.eng.Stores = map[string]connector.Store{"app": w}
		got, _ := st.run(t, e.eng, "ada@example.com")
		if !w.checked || got.Counts["app.users"] != 1 {
			t.Errorf("the erasure wrote nothing, or counted %v", got.Counts)
		}
	})
}
