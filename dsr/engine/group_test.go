package engine_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"gorm.io/gorm/logger"
)

// counterRegistry: accounts, their posts (a child that keeps its parent's
// post count up to date with a trigger, and loses its reference when the
// account goes), and the posts a person wrote for someone else's account,
// a second collection of the same table.
const counterRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.accounts:
    identity: {email: email}
    erasure: delete
  app.posts:
    references: {account_id: accounts.id}
    erasure: delete
%s`

const authoredCollection = `  app.authored:
    table: posts
    identity: {email: author}
    erasure: delete
`

// counterTrigger is each dialect's BEFORE DELETE trigger on posts that
// counts the post off its account's row.
var counterTrigger = map[string][]string{
	"postgres": {`CREATE FUNCTION uncount() RETURNS trigger AS $$ BEGIN UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id; RETURN OLD; END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW EXECUTE FUNCTION uncount()`},
	"mysql":  {`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id`},
	"sqlite": {`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW BEGIN UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id; END`},
}

// setupCounter seeds Ada's account 1 with posts 1 and 2 and Bob's account
// 2 with post 3, which Ada wrote.
func setupCounter(t *testing.T, d, extra string) (*sqlstore.Store, *engine.Engine) {
	t.Helper()
	app := testkit.OpenStore(t, "app", d, append([]string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, posts INTEGER NOT NULL)`,
		`CREATE TABLE posts (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL, author VARCHAR(100))`,
		`INSERT INTO accounts VALUES (1, 'ada@example.com', 2), (2, 'bob@example.com', 1)`,
		`INSERT INTO posts VALUES (1, 1, 'ada@example.com'), (2, 1, NULL), (3, 2, 'ada@example.com')`,
	}, counterTrigger[d]...)...)
	reg := testkit.Registry(t, counterRegistry, d, extra)
	return app, engine.New(reg, map[string]connector.Store{"app": app}, dsr.NewSubjectHasher([]byte("k")))
}

// writing is a store that writes rows of Ada's into posts just before its
// first grouped delete, after the erasure froze their keys: as the
// application may.
type writing struct {
	*sqlstore.Store
	t    *testing.T
	rows int
}

func (s *writing) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	for ; s.rows > 0; s.rows-- {
		testkit.Exec(s.t, s.Store, `INSERT INTO posts (id, account_id) VALUES (?, 1)`, 100+s.rows)
	}
	return s.Store.DeleteEach(ctx, sels, limit, ahead)
}

// TestGroupedDeleteWithCounterTrigger: posts and accounts, each fewer rows
// than a batch, are deleted in one group, although each post's trigger
// updates its account's row before the account's delete (on Postgres one
// statement of data-modifying WITHs refused it, SQLSTATE 27000, and the
// request failed).
func TestGroupedDeleteWithCounterTrigger(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			app, eng := setupCounter(t, d, "")
			rec := &groupRecorder{Store: app}
			eng.Stores = map[string]connector.Store{"app": rec}
			out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if want := [][]string{{"app.posts", "app.accounts"}}; !slices.EqualFunc(rec.calls, want, slices.Equal) {
				t.Errorf("deletes %q; want %q", rec.calls, want)
			}
			if want := map[string]int64{"app.posts": 2, "app.accounts": 1}; !maps.Equal(out.Counts, want) || !out.Verification.Passed {
				t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
			}
			if got := fmt.Sprint(dumpRows(t, app, `SELECT id, posts FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["2" "1"]] [["3"]]` {
				t.Errorf("rows left %s; want Bob's account and post", got)
			}
		})
	}
}

// TestGroupedChildTakingWholeBatch: Ada's posts, 2 when the erasure
// starts, are 8 by the grouped delete (the application wrote 6 since), more than a batch
// of 5: the group is taken back, before the account's delete would have
// cut the 3 left from it (ON DELETE SET NULL) and left them for good, and
// each collection is deleted in its turn: every post of Ada's counted and
// gone.
func TestGroupedChildTakingWholeBatch(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			app, eng := setupCounter(t, d, "")
			eng.BatchSize = 5
			eng.Stores = map[string]connector.Store{"app": &writing{Store: app, t: t, rows: 6}}
			out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"app.posts": 8, "app.accounts": 1}; !maps.Equal(out.Counts, want) || !out.Verification.Passed {
				t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
			}
			if got := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["2"]] [["3"]]` {
				t.Errorf("rows left %s; want Bob's account and post", got)
			}
		})
	}
}

// TestSameTableNeverGrouped: posts and authored, two collections of one
// table, are not deleted in one group (their deletes would share a
// snapshot, and which one counts a row of both would be chance); counts
// and rows are those of deletes one by one.
func TestSameTableNeverGrouped(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			refApp, ref := setupCounter(t, d, authoredCollection)
			ref.BatchSize, ref.RowBatch = 1, 1
			refOut, err := ref.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			app, eng := setupCounter(t, d, authoredCollection)
			rec := &groupRecorder{Store: app}
			eng.Stores = map[string]connector.Store{"app": rec}
			out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			for _, call := range rec.calls {
				if slices.Contains(call, "app.posts") && slices.Contains(call, "app.authored") {
					t.Errorf("deletes %q group two collections of table posts", rec.calls)
				}
			}
			if !maps.Equal(out.Counts, refOut.Counts) || !out.Verification.Passed {
				t.Errorf("counts %v (verification %+v); one by one %v", out.Counts, out.Verification, refOut.Counts)
			}
			if got, want := fmt.Sprint(dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)), fmt.Sprint(dumpRows(t, refApp, `SELECT id FROM posts ORDER BY id`)); got != want {
				t.Errorf("posts left %s; one by one %s", got, want)
			}
		})
	}
}

// TestGroupedChildTakingWholeBatchResumes: the erasure of
// TestGroupedChildTakingWholeBatch killed after the group was taken back,
// before or after the first batch of posts one by one commits, or at a
// journal entry, resumes to the same counts and rows.
func TestGroupedChildTakingWholeBatchResumes(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			for _, kp := range []killPoint{{store: 2}, {store: 2, afterCommit: true}, {store: 3, afterCommit: true}, {journal: 2}, {journal: 3}} {
				t.Run(fmt.Sprintf("store%d-commit%v-journal%d", kp.store, kp.afterCommit, kp.journal), func(t *testing.T) {
					app, eng := setupCounter(t, d, "")
					eng.BatchSize = 5
					eng.Stores = map[string]connector.Store{"app": &writing{Store: app, t: t, rows: 6}}
					j := interruptedWith(t, eng, kp, erasure("ada@example.com", ""))
					out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), j)
					if err != nil {
						t.Fatal(err)
					}
					if want := map[string]int64{"app.posts": 8, "app.accounts": 1}; !maps.Equal(out.Counts, want) || !out.Verification.Passed {
						t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
					}
					if got := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["2"]] [["3"]]` {
						t.Errorf("rows left %s; want Bob's account and post", got)
					}
				})
			}
		})
	}
}

// appLog records the statements of the application's store, in order.
type appLog struct {
	logger.Interface
	mu    *sync.Mutex
	stmts *[]string
}

func (l appLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	l.mu.Lock()
	*l.stmts = append(*l.stmts, q)
	l.mu.Unlock()
}

// TestGroupedDeleteCountsNothingBefore: Ada's posts and account, deleted
// in one group, are not counted before their deletes (the transaction
// journals what each delete took): no statement of the application's
// store before the first DELETE counts, and the certificate's counts are
// exact.
func TestGroupedDeleteCountsNothingBefore(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			app, eng := setupCounter(t, d, "")
			var stmts []string
			app.DB().Logger = appLog{Interface: logger.Discard, mu: &sync.Mutex{}, stmts: &stmts}
			out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"app.posts": 2, "app.accounts": 1}; !maps.Equal(out.Counts, want) || !out.Verification.Passed {
				t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
			}
			first := slices.IndexFunc(stmts, func(q string) bool { return strings.HasPrefix(strings.TrimSpace(strings.ToUpper(q)), "DELETE") })
			if first < 0 {
				t.Fatalf("no DELETE among %q", stmts)
			}
			for _, q := range stmts[:first] {
				if strings.Contains(strings.ToLower(q), "(select count(") {
					t.Errorf("statement before the deletes counts: %s", q)
				}
			}
		})
	}
}

// aheadFailing is the application's store whose grouped delete runs its
// journal ahead and then fails before it commits, as a process killed
// between the two would.
type aheadFailing struct{ *sqlstore.Store }

func (s aheadFailing) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	return s.Store.DeleteEach(ctx, sels, limit, func(ns []int64) error {
		if err := ahead(ns); err != nil {
			return err
		}
		return errKilled
	})
}

// TestGroupedDeleteResumes: the group's erasure interrupted where its
// transaction journals the deletes ahead: the journal failing leaves Ada's
// rows (the deletes taken back); the entry stored and the transaction
// taken back, or committed and the run killed before the done steps, the
// resumed run counts what the entry says gone once. Each resumes to the
// counts of a run not interrupted.
func TestGroupedDeleteResumes(t *testing.T) {
	want := map[string]int64{"app.posts": 2, "app.accounts": 1}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			for _, at := range []string{"journal", "before-commit", "after-commit"} {
				t.Run(at, func(t *testing.T) {
					app, eng := setupCounter(t, d, "")
					j := newJournal()
					killed := *eng
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					switch at {
					case "journal":
						j.onSave = func(s dsr.Step) {
							if s.Name == "erase app.accounts" && s.Status == "running" {
								j.failAfter = j.saves + 1
							}
						}
					case "before-commit":
						killed.Stores = map[string]connector.Store{"app": aheadFailing{app}}
					case "after-commit":
						killed.Stores = map[string]connector.Store{"app": killingStore{app, &killer{at: 1, afterCommit: true, cancel: cancel}}}
					}
					if _, err := killed.Execute(ctx, erasure("ada@example.com", ""), j); err == nil {
						t.Fatal("the interrupted run did not fail")
					}
					rows := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`))
					if at != "after-commit" && rows != `[["1"] ["2"]] [["1"] ["2"] ["3"]]` {
						t.Errorf("rows after the interrupted run %s; want all of them", rows)
					}
					if at == "after-commit" && rows != `[["2"]] [["3"]]` {
						t.Errorf("rows after the interrupted run %s; want Bob's account and post", rows)
					}
					j.failAfter, j.onSave, j.held = 0, nil, nil
					out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), j)
					if err != nil {
						t.Fatal(err)
					}
					if !maps.Equal(out.Counts, want) || !out.Verification.Passed {
						t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
					}
					if got := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["2"]] [["3"]]` {
						t.Errorf("rows left %s; want Bob's account and post", got)
					}
				})
			}
		})
	}
}

// TestGroupTakenBack: a group whose posts reach its bound (not counted
// before: the group finds it) is taken back; the posts are deleted batch by
// batch and counted, then the account: exact counts. Ada's 8 posts reach a
// batch of 5; one more post than engine.GroupRows reaches that bound, far
// below a default batch (a big subject's try costs the bound, not a
// batch), and goes in one batch of its own.
func TestGroupTakenBack(t *testing.T) {
	cases := []struct {
		name  string
		posts int // Ada's, her two among them
		batch int
		calls [][]string
	}{
		{"larger than a batch", 8, 5, [][]string{{"app.posts", "app.accounts"}, {"app.posts"}, {"app.posts"}, {"app.accounts"}}},
		{"above GroupRows", engine.GroupRows + 1, 0, [][]string{{"app.posts", "app.accounts"}, {"app.posts"}, {"app.accounts"}}},
	}
	for _, c := range cases {
		for _, d := range dialects {
			t.Run(c.name+"/"+d, func(t *testing.T) {
				app, eng := setupCounter(t, d, "")
				rows := make([]string, c.posts-2)
				for i := range rows {
					rows[i] = fmt.Sprintf("(%d, 1)", 101+i)
				}
				testkit.Exec(t, app, `INSERT INTO posts (id, account_id) VALUES `+strings.Join(rows, ", "))
				eng.BatchSize = c.batch
				rec := &groupRecorder{Store: app}
				eng.Stores = map[string]connector.Store{"app": rec}
				out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(rec.calls, c.calls, slices.Equal) {
					t.Errorf("deletes %q; want %q", rec.calls, c.calls)
				}
				if want := map[string]int64{"app.posts": int64(c.posts), "app.accounts": 1}; !maps.Equal(out.Counts, want) || !out.Verification.Passed {
					t.Errorf("counts %v (verification %+v); want %v", out.Counts, out.Verification, want)
				}
				if got := fmt.Sprint(dumpRows(t, app, `SELECT id FROM accounts ORDER BY id`), dumpRows(t, app, `SELECT id FROM posts ORDER BY id`)); got != `[["2"]] [["3"]]` {
					t.Errorf("rows left %s; want Bob's account and post", got)
				}
			})
		}
	}
}
