package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// TestPartitionedTableDeletesOnlyTheSubject checks Delete and Purge on a
// Postgres table partitioned by tenant, where the first row of every
// partition has the same row address (ctid): a delete by address would take
// the other tenant's row with the subject's.
func TestPartitionedTableDeletesOnlyTheSubject(t *testing.T) {
	t.Parallel()
	url := testdb.Postgres(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := time.Now().Add(-48 * time.Hour)
	for _, stmt := range []string{
		`CREATE TABLE chats (id INT, studio_id TEXT, email TEXT, created_at TIMESTAMPTZ, PRIMARY KEY (id, studio_id)) PARTITION BY LIST (studio_id)`,
		`CREATE TABLE chats_a PARTITION OF chats FOR VALUES IN ('a')`,
		`CREATE TABLE chats_b PARTITION OF chats FOR VALUES IN ('b')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	insert := `INSERT INTO chats VALUES (1, 'a', 'victim@example.com', $1), (2, 'b', 'other@example.com', $1),
		(3, 'a', 'victim@example.com', $1), (4, 'b', 'other@example.com', $1)`
	if _, err := db.Exec(insert, old); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse([]byte(`
stores:
  app: {kind: sql, driver: postgres, dsn_env: APP}
collections:
  app.chats:
    primary_key: [id, studio_id]
    identity: {email: email}
    tenant: studio_id
    retention: {window: 1d, timestamp: created_at}
    erasure: delete
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open("app", registry.DriverPostgres, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := reg.Collections["app.chats"]
	ctx := context.Background()
	left := func() map[string]int {
		rows, err := db.Query(`SELECT email, count(*) FROM chats GROUP BY email`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var e string
			var n int
			rows.Scan(&e, &n)
			out[e] = n
		}
		return out
	}

	n, err := st.Delete(ctx, connector.Selection{Collection: c, Tenant: "a",
		Matches: []connector.Match{{Columns: []string{"email"}, Email: "victim@example.com"}}}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := left(); n != 1 || got["victim@example.com"] != 1 || got["other@example.com"] != 2 {
		t.Fatalf("Delete removed %d rows and left %v; want 1 removed, the other tenant's 2 rows intact", n, got)
	}

	n, _, err = st.Purge(ctx, connector.Selection{Collection: c, Tenant: "b", All: true,
		Older: &connector.Older{Column: "created_at", Before: time.Now()}}, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := left(); n != 1 || got["victim@example.com"] != 1 || got["other@example.com"] != 1 {
		t.Fatalf("Purge removed %d rows and left %v; want 1 removed from tenant b only", n, got)
	}
	if _, _, ok, err := st.Extent(ctx, c); err != nil || ok {
		t.Fatalf("Extent on a partitioned table = ok %v, %v; want not ok (no pages of its own)", ok, err)
	}
}
