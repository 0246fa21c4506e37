package sqlstore_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestPurgeReadsTenantsTwoHopsUp: reactions name their studio through the
// message they react to (a reference with a condition) and its chat; a
// purge returns each reaction's studio, none for one whose message is gone
// or that reacts to something else, and Tally counts them alike.
func TestPurgeReadsTenantsTwoHopsUp(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		st, sel, via, want := twoHopsUp(t, driver)
		ctx := context.Background()
		gs, err := st.Tally(ctx, []retention.Tally{{Sel: sel, Via: via}})
		if err != nil {
			t.Fatal(err)
		}
		tallied := perTenant(gs[0])
		n, vals, err := st.Purge(ctx, sel, []string{"id"}, via, 100)
		if err != nil || n != 6 {
			t.Fatalf("purge: %d, %v", n, err)
		}
		purged := map[string]int64{}
		for _, v := range vals {
			if len(v) != 2 {
				t.Fatalf("purge returned %v; want the id and the tenant", v)
			}
			purged[fmt.Sprint(v[1])]++
		}
		if !maps.Equal(tallied, want) || !maps.Equal(purged, want) {
			t.Errorf("reactions per studio: tallied %v, purged %v; want %v", tallied, purged, want)
		}
	})
}

// TestPurgeRangeTallyReadsTenantsTwoHopsUp: a range purge that counts per
// tenant (on Postgres the server's count, through a join to the parents)
// counts the reactions of TestPurgeReadsTenantsTwoHopsUp as Purge returns
// them, and deletes them.
func TestPurgeRangeTallyReadsTenantsTwoHopsUp(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		gs, want := purgeRangeTwoHopsUp(t, driver, true)
		if got := perTenant(gs); !maps.Equal(got, want) {
			t.Errorf("reactions per studio: %v; want %v", got, want)
		}
	})
}

// TestPurgeRangeTallyWithoutTenant: a range purge that counts by no tenant
// (neither By nor Via) returns one group of every row it deleted, as Tally
// counts them.
func TestPurgeRangeTallyWithoutTenant(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		gs, want := purgeRangeTwoHopsUp(t, driver, false)
		var total int64
		for _, n := range want {
			total += n
		}
		if len(gs) != 1 || gs[0].Value != nil || gs[0].Rows != total {
			t.Errorf("groups %+v; want one of %d rows", gs, total)
		}
	})
}

// purgeRangeTwoHopsUp purges by range, with PurgeRangeTally, the expired
// reactions of twoHopsUp, counted through their parents when via is set,
// checks that none is left, and returns the groups and the reactions per
// studio; it skips a driver that purges no range.
func purgeRangeTwoHopsUp(t *testing.T, driver string, via bool) ([]retention.TallyGroup, map[string]int64) {
	t.Helper()
	st, sel, hops, want := twoHopsUp(t, driver)
	ctx := context.Background()
	pages, _, ok, err := st.Extent(ctx, sel.Collection)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("%s purges no range", driver)
	}
	tally := retention.Tally{Sel: sel}
	if via {
		tally.Via = hops
	}
	gs, err := st.PurgeRangeTally(ctx, tally, 0, pages+1)
	if err != nil {
		t.Fatal(err)
	}
	if left, err := st.Count(ctx, []connector.Selection{sel}); err != nil || left[0] != 0 {
		t.Errorf("left %v expired reactions (%v)", left, err)
	}
	return gs, want
}

// perTenant is groups' rows by tenant as text ("<nil>" for none).
func perTenant(gs []retention.TallyGroup) map[string]int64 {
	out := map[string]int64{}
	for _, g := range gs {
		key := fmt.Sprint(g.Value)
		if b, ok := g.Value.([]byte); ok { // MySQL's binary text
			key = string(b)
		}
		out[key] += g.Rows
	}
	return out
}

// twoHopsUp makes on driver chats of two studios, their messages, and six
// expired reactions that name their studio through the message they react
// to (a reference with a condition) and its chat: three of acme, one of
// globex, and two of none (a message gone, an upload's). It returns the
// store, the reactions' selection, their path to the studio and the
// reactions per studio.
func twoHopsUp(t *testing.T, driver string) (*sqlstore.Store, connector.Selection, []retention.TenantHop, map[string]int64) {
	t.Helper()
	reg := testkit.Registry(t, `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP}
collections:
  app.chats:
    identity: {email: email}
    tenant: studio_id
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    erasure: delete
  app.reactions:
    references:
      owner_id: {ref: messages.id, where: {owner_type: message}}
    retention: {window: 1d, timestamp: created_at}
    erasure: delete
`, driver)
	st, err := sqlstore.Open("app", driver, testkit.DSN(t, driver))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	old := time.Now().UTC().Add(-48 * time.Hour)
	for _, s := range []string{
		`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, email VARCHAR(255))`,
		`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL)`,
		`CREATE TABLE reactions (id BIGINT PRIMARY KEY, owner_type VARCHAR(16) NOT NULL, owner_id BIGINT NOT NULL, created_at ` + testkit.TimestampType(driver) + ` NOT NULL)`,
		`INSERT INTO chats VALUES (1, 'acme', NULL), (2, 'globex', NULL)`,
		`INSERT INTO messages VALUES (10, 1), (11, 1), (20, 2)`,
	} {
		if err := st.DB().Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range []struct {
		typ   string
		owner int64
	}{{"message", 10}, {"message", 11}, {"message", 11}, {"message", 20}, {"message", 99}, {"upload", 10}} {
		if err := st.DB().Exec(`INSERT INTO reactions VALUES (?, ?, ?, ?)`, i+1, r.typ, r.owner, old).Error; err != nil {
			t.Fatal(err)
		}
	}
	reactions, messages := reg.Collections["app.reactions"], reg.Collections["app.messages"]
	via := []retention.TenantHop{
		{Column: "owner_id", Parent: messages, ParentColumn: "id", Where: reactions.References[0].Where},
		{Column: "chat_id", Parent: reg.Collections["app.chats"], ParentColumn: "id"},
	}
	sel := connector.Selection{Collection: reactions, All: true, Older: &connector.Older{Column: "created_at", Before: time.Now()}}
	return st, sel, via, map[string]int64{"acme": 3, "globex": 1, "<nil>": 2}
}
