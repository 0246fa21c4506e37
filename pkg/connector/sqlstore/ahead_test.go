package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestDeleteAhead checks a Delete that tells its batch ahead, on a
// composite key whose first column sorts as a number (10 after 3): the
// batch is the first rows in key order, told before any is deleted, nothing
// is deleted when ahead fails, and Through bounds a later Delete to the
// rows up to a key.
func TestDeleteAhead(t *testing.T) {
	for _, d := range testkit.Drivers {
		t.Run(d, func(t *testing.T) {
			st := testkit.OpenStore(t, "app", d, `CREATE TABLE items (a INT NOT NULL, b VARCHAR(10) NOT NULL, email VARCHAR(100), PRIMARY KEY (a, b))`,
				`INSERT INTO items VALUES (1, 'x', 'ada@example.com'), (2, 'x', 'bob@example.com'), (2, 'y', 'ada@example.com'),
					(3, 'x', 'ada@example.com'), (10, 'x', 'ada@example.com')`)
			reg, err := registry.Parse(fmt.Appendf(nil, `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP}
collections:
  app.items:
    primary_key: [a, b]
    identity: {email: email}
    erasure: delete
`, d))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			sel := connector.Selection{Collection: reg.Collections["app.items"], Matches: []connector.Match{{Columns: []string{"email"}, Email: "ada@example.com"}}}
			left := func() []string {
				var keys []string
				if err := st.DB().Raw(`SELECT CONCAT(a, b) FROM items ORDER BY a, b`).Scan(&keys).Error; err != nil {
					t.Fatal(err)
				}
				return keys
			}
			refused := errors.New("refused")
			if _, err := st.Delete(ctx, sel, 2, func(string, int64) error { return refused }); !errors.Is(err, refused) {
				t.Fatalf("Delete with a failing ahead: %v", err)
			}
			if got := left(); len(got) != 5 {
				t.Fatalf("a failing ahead left %v; want every row", got)
			}
			var told []string
			n, err := st.Delete(ctx, sel, 2, func(last string, n int64) error {
				told = append(told, fmt.Sprint(last, " ", n))
				return nil
			})
			if want := []string{`["2","y"] 2`}; err != nil || n != 2 || !slices.Equal(told, want) {
				t.Fatalf("Delete = %d, %v, told %v; want 2 rows told as %v", n, err, told, want)
			}
			if got, want := left(), []string{"2x", "3x", "10x"}; !slices.Equal(got, want) {
				t.Fatalf("rows left %v; want %v", got, want)
			}
			through := sel
			through.Through = new(`["3","x"]`)
			if n, err := st.Delete(ctx, through, 10, nil); err != nil || n != 1 {
				t.Fatalf("Delete through 3x = %d, %v; want 1", n, err)
			}
			if got, want := left(), []string{"2x", "10x"}; !slices.Equal(got, want) {
				t.Fatalf("rows left %v; want %v", got, want)
			}
		})
	}
}
