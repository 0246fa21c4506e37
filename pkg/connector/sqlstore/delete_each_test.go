package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestDeleteEach: DeleteEach deletes each selection in order in one
// transaction: a statement that fails (a trigger refusing the delete of a
// locked item) takes back the deletes before it; each deletes up to a
// batch.
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
			st := testkit.OpenStore(t, "app", d, ddl...)
			reg, err := registry.Parse(fmt.Appendf(nil, `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP}
collections:
  app.notes:
    identity: {email: email}
    erasure: delete
  app.items:
    identity: {email: email}
    erasure: delete
`, d))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			of := func(key, email string) connector.Selection {
				return connector.Selection{Collection: reg.Collections[key], Matches: []connector.Match{{Columns: []string{"email"}, Email: email}}}
			}
			ids := func(table string) []int {
				var out []int
				if err := st.DB().Raw(`SELECT id FROM ` + table + ` ORDER BY id`).Scan(&out).Error; err != nil {
					t.Fatal(err)
				}
				return out
			}
			var g connector.GroupDeleter = st
			if _, err := g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "cy@example.com")}, 10); err == nil {
				t.Fatal("DeleteEach of a refused item succeeded")
			}
			if got := ids("notes"); !slices.Equal(got, []int{1, 2, 3}) {
				t.Fatalf("a refused delete left notes %v; want all three, the first delete taken back", got)
			}
			ns, err := g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "ada@example.com")}, 1)
			if err != nil || !slices.Equal(ns, []int64{1, 1}) {
				t.Fatalf("DeleteEach with a batch of 1 = %v, %v; want [1 1]", ns, err)
			}
			ns, err = g.DeleteEach(ctx, []connector.Selection{of("app.notes", "ada@example.com"), of("app.items", "ada@example.com")}, 2)
			if err != nil || !slices.Equal(ns, []int64{1, 0}) {
				t.Fatalf("DeleteEach = %v, %v; want [1 0]", ns, err)
			}
			if got, want := [][]int{ids("notes"), ids("items")}, [][]int{{3}, {2}}; !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) {
				t.Fatalf("rows left %v; want %v", got, want)
			}
		})
	}
}
