package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestDeleteEach: DeleteEach deletes each selection in order in one
// transaction: a statement that fails (a trigger refusing the delete of a
// locked item) takes back the deletes before it; one that deletes a whole
// batch takes back all of them (its parent's delete must wait for the rest
// of its rows).
func TestDeleteEach(t *testing.T) {
	refuse := map[string][]string{
		registry.DriverPostgres: {`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'locked'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER refuse BEFORE DELETE ON items FOR EACH ROW WHEN (OLD.locked) EXECUTE FUNCTION refuse()`},
		registry.DriverMySQL:  {`CREATE TRIGGER refuse BEFORE DELETE ON items FOR EACH ROW BEGIN IF OLD.locked THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'locked'; END IF; END`},
		registry.DriverSQLite: {`CREATE TRIGGER refuse BEFORE DELETE ON items FOR EACH ROW WHEN OLD.locked BEGIN SELECT RAISE(ABORT, 'locked'); END`},
	}
	for _, d := range testkit.Drivers {
		t.Run(d, func(t *testing.T) {
			ddl := append([]string{`CREATE TABLE notes (id INT PRIMARY KEY, email VARCHAR(100))`,
				`CREATE TABLE items (id INT PRIMARY KEY, email VARCHAR(100), locked BOOLEAN NOT NULL)`,
				`INSERT INTO notes VALUES (1, 'ada@example.com'), (2, 'ada@example.com'), (3, 'bob@example.com')`,
				`INSERT INTO items VALUES (1, 'ada@example.com', FALSE), (2, 'cy@example.com', TRUE)`}, refuse[d]...)
			st, sel := openDeleting(t, d, ddl, `
  app.notes:
    identity: {email: email}
    erasure: delete
  app.items:
    identity: {email: email}
    erasure: delete
`)
			ctx := context.Background()
			of := func(key, email string) connector.Selection { return sel(key, "email", email) }
			ids := func(table string) []int {
				var out []int
				if err := st.DB().Raw(`SELECT id FROM ` + table + ` ORDER BY id`).Scan(&out).Error; err != nil {
					t.Fatal(err)
				}
				return out
			}
			var g connector.GroupDeleter = st
			if _, err := g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "cy@example.com")}, 10, nil); err == nil {
				t.Fatal("DeleteEach of a refused item succeeded")
			}
			if got := ids("notes"); !slices.Equal(got, []int{1, 2, 3}) {
				t.Fatalf("a refused delete left notes %v; want all three, the first delete taken back", got)
			}
			told := false
			if _, err := g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "ada@example.com")}, 2, func([]int64) error {
				told = true
				return nil
			}); !errors.Is(err, connector.ErrGroupFull) {
				t.Fatalf("DeleteEach of a whole batch of notes: %v; want ErrGroupFull", err)
			}
			if told {
				t.Error("DeleteEach told ahead of a group taken back")
			}
			if got := ids("notes"); !slices.Equal(got, []int{1, 2, 3}) {
				t.Fatalf("a whole batch of notes left notes %v; want all three, taken back before the items' delete", got)
			}
			ns, err := g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "ada@example.com")}, 3, nil)
			if err != nil || !slices.Equal(ns, []int64{2, 1}) {
				t.Fatalf("DeleteEach = %v, %v; want [2 1]", ns, err)
			}
			if got, want := [][]int{ids("notes"), ids("items")}, [][]int{{3}, {2}}; !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) {
				t.Fatalf("rows left %v; want %v", got, want)
			}
		})
	}
}

// TestDeleteEachAhead: DeleteEach tells ahead each selection's rows inside
// its transaction, once every delete is done and before it commits (on
// Postgres and MySQL another connection still reads the rows then): the
// deletes commit when ahead returns nil, and an error of ahead takes all
// of them back and is returned as it is.
func TestDeleteEachAhead(t *testing.T) {
	for _, d := range testkit.Drivers {
		t.Run(d, func(t *testing.T) {
			st, sel := openDeleting(t, d, []string{`CREATE TABLE notes (id INT PRIMARY KEY, email VARCHAR(100))`,
				`CREATE TABLE items (id INT PRIMARY KEY, email VARCHAR(100))`,
				`INSERT INTO notes VALUES (1, 'ada@example.com'), (2, 'ada@example.com'), (3, 'bob@example.com')`,
				`INSERT INTO items VALUES (1, 'ada@example.com'), (2, 'bob@example.com')`}, `
  app.notes:
    identity: {email: email}
    erasure: delete
  app.items:
    identity: {email: email}
    erasure: delete
`)
			ctx := context.Background()
			sels := []connector.Selection{sel("app.notes", "email", "ada@example.com"), sel("app.items", "email", "ada@example.com")}
			rows := func() int64 {
				var n int64
				if err := st.DB().Raw(`SELECT (SELECT count(*) FROM notes) + (SELECT count(*) FROM items)`).Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			refused := errors.New("journal refused")
			var told []int64
			_, err := st.DeleteEach(ctx, sels, 10, func(ns []int64) error {
				told = slices.Clone(ns)
				if d != registry.DriverSQLite {
					if n := rows(); n != 5 {
						t.Errorf("another connection reads %d rows while ahead runs; want all 5, not committed yet", n)
					}
				}
				return refused
			})
			if err != refused {
				t.Fatalf("DeleteEach with ahead failing = %v; want ahead's error", err)
			}
			if !slices.Equal(told, []int64{2, 1}) {
				t.Errorf("ahead told %v; want [2 1]", told)
			}
			if n := rows(); n != 5 {
				t.Fatalf("ahead's error left %d rows; want all 5, the deletes taken back", n)
			}
			told = nil
			ns, err := st.DeleteEach(ctx, sels, 10, func(ns []int64) error {
				told = slices.Clone(ns)
				return nil
			})
			if err != nil || !slices.Equal(ns, []int64{2, 1}) || !slices.Equal(told, ns) {
				t.Fatalf("DeleteEach = %v, %v, ahead told %v; want [2 1] both", ns, err, told)
			}
			if n := rows(); n != 2 {
				t.Fatalf("%d rows left; want Bob's 2", n)
			}
		})
	}
}

// TestDeleteEachCounterCache: a child's trigger that updates a counter on
// its parent row before the child's delete does not stop the parent's
// delete that follows in the group: each delete is its own statement, as
// one by one (in one Postgres statement of data-modifying WITHs, the
// parent's delete failed with SQLSTATE 27000, the row already changed by
// the same command). Two collections of one table each count the rows
// they delete, the second none of the first's.
func TestDeleteEachCounterCache(t *testing.T) {
	counter := map[string][]string{
		registry.DriverPostgres: {`CREATE FUNCTION uncount() RETURNS trigger AS $$ BEGIN UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id; RETURN OLD; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW EXECUTE FUNCTION uncount()`},
		registry.DriverMySQL:  {`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id`},
		registry.DriverSQLite: {`CREATE TRIGGER uncount BEFORE DELETE ON posts FOR EACH ROW BEGIN UPDATE accounts SET posts = posts - 1 WHERE id = OLD.account_id; END`},
	}
	for _, d := range testkit.Drivers {
		t.Run(d, func(t *testing.T) {
			ddl := append([]string{`CREATE TABLE accounts (id INT PRIMARY KEY, email VARCHAR(100), posts INT NOT NULL)`,
				`CREATE TABLE posts (id INT PRIMARY KEY, account_id INT, email VARCHAR(100), author VARCHAR(100))`,
				`INSERT INTO accounts VALUES (1, 'ada@example.com', 2), (2, 'bob@example.com', 1)`,
				`INSERT INTO posts VALUES (1, 1, 'ada@example.com', 'ada@example.com'), (2, 1, 'ada@example.com', 'x'), (3, 2, 'bob@example.com', 'ada@example.com')`}, counter[d]...)
			st, sel := openDeleting(t, d, ddl, `
  app.posts:
    identity: {email: email}
    erasure: delete
  app.authored:
    table: posts
    identity: {email: author}
    erasure: delete
  app.accounts:
    identity: {email: email}
    erasure: delete
`)
			ctx := context.Background()
			of := func(key, col string) connector.Selection { return sel(key, col, "ada@example.com") }
			ns, err := st.DeleteEach(ctx, []connector.Selection{of("app.posts", "email"), of("app.authored", "author"), of("app.accounts", "email")}, 10, nil)
			if err != nil || !slices.Equal(ns, []int64{2, 1, 1}) {
				t.Fatalf("DeleteEach of posts, authored posts and accounts = %v, %v; want [2 1 1]", ns, err)
			}
			var left []int
			if err := st.DB().Raw(`SELECT id FROM accounts UNION ALL SELECT 10 + id FROM posts ORDER BY 1`).Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(left, []int{2}) {
				t.Fatalf("rows left %v; want Bob's account only", left)
			}
		})
	}
}

// openDeleting opens store app of driver d made by ddl, with the registry
// of its collections (YAML under "collections:"), and returns it with a
// function selecting a collection's rows whose column col holds email.
func openDeleting(t *testing.T, d string, ddl []string, collections string) (*sqlstore.Store, func(key, col, email string) connector.Selection) {
	t.Helper()
	st := testkit.OpenStore(t, "app", d, ddl...)
	reg, err := registry.Parse(fmt.Appendf(nil, "stores:\n  app: {kind: sql, driver: %s, dsn_env: APP}\ncollections:%s", d, collections))
	if err != nil {
		t.Fatal(err)
	}
	return st, func(key, col, email string) connector.Selection {
		return connector.Selection{Collection: reg.Collections[key], Matches: []connector.Match{{Columns: []string{col}, Email: email}}}
	}
}

// TestDeleteEachStopsAtLimit: a selection far larger than a batch (nothing
// is counted before a group) is deleted no further than limit rows before
// the group is taken back: a delete trigger draws a number from a sequence,
// which a rollback does not give back, for each row the statement deleted.
func TestDeleteEachStopsAtLimit(t *testing.T) {
	st, sel := openDeleting(t, registry.DriverPostgres, []string{
		`CREATE TABLE notes (id INT PRIMARY KEY, email VARCHAR(100))`,
		`INSERT INTO notes SELECT g, 'ada@example.com' FROM generate_series(1, 500) g`,
		`CREATE SEQUENCE notes_deleted`,
		`CREATE FUNCTION count_deleted() RETURNS trigger AS $$ BEGIN PERFORM nextval('notes_deleted'); RETURN OLD; END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER count_deleted BEFORE DELETE ON notes FOR EACH ROW EXECUTE FUNCTION count_deleted()`,
	}, `
  app.notes:
    identity: {email: email}
    erasure: delete
`)
	told := false
	_, err := st.DeleteEach(context.Background(), []connector.Selection{sel("app.notes", "email", "ada@example.com")}, 10,
		func([]int64) error { told = true; return nil })
	if !errors.Is(err, connector.ErrGroupFull) || told {
		t.Fatalf("DeleteEach of 500 rows with a limit of 10: %v (ahead told: %v); want ErrGroupFull, ahead not told", err, told)
	}
	var drawn, left int64
	if err := st.DB().Raw(`SELECT last_value FROM notes_deleted`).Scan(&drawn).Error; err != nil {
		t.Fatal(err)
	}
	if err := st.DB().Raw(`SELECT count(*) FROM notes`).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if drawn > 10 || left != 500 {
		t.Fatalf("the group deleted %d rows before it was taken back, and left %d; want at most 10, and all 500 left", drawn, left)
	}
}
