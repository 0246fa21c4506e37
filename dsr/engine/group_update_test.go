package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestGroupedDeleteRowUpdatedMeanwhile: the application updates one of
// Ada's posts (its text, not its account) in a transaction that commits
// while the group's delete of posts waits for that row. The post must be
// deleted and counted before her account goes; a post left behind loses
// its account (ON DELETE SET NULL) and no later pass or verification
// finds it again.
func TestGroupedDeleteRowUpdatedMeanwhile(t *testing.T) {
	cases := []struct {
		name, update, counts, posts string
	}{
		// Still Ada's: deleted and counted, before her account goes.
		{"edited", `UPDATE posts SET author = 'edited' WHERE id = 2`, "map[app.accounts:1 app.posts:2]", `[["3" "2"]]`},
		// Moved to Bob's account: his now, left to him, not counted.
		{"moved", `UPDATE posts SET account_id = 2 WHERE id = 2`, "map[app.accounts:1 app.posts:1]", `[["2" "2"] ["3" "2"]]`},
	}
	for _, d := range []string{"postgres", "mysql"} {
		for _, c := range cases {
			t.Run(d+"/"+c.name, func(t *testing.T) { groupedDeleteRowUpdated(t, d, c.update, c.counts, c.posts) })
		}
	}
}

// waiting counts, per dialect, the erasure's deletes of posts waiting for
// a row lock.
var waiting = map[string]string{
	"postgres": `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM "posts"%'`,
	"mysql":    "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE 'DELETE FROM%posts%'",
}

func groupedDeleteRowUpdated(t *testing.T, d, update, counts, posts string) {
	app, eng := setupCounter(t, d, "")
	tx := app.DB().Begin()
	if err := tx.Exec(update).Error; err != nil {
		t.Fatal(err)
	}
	type result struct {
		out *dsr.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
		done <- result{out, err}
	}()
	// Wait (no time bound) until the erasure's delete of posts waits for
	// the row the open transaction holds.
	for {
		var n int64
		if err := app.DB().Raw(waiting[d]).Row().Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("erasure ended before waiting for the row: %v %v", r.out, r.err)
		default:
		}
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := fmt.Sprint(r.out.Counts); got != counts {
		t.Errorf("counts %s (verification %+v); want %s", got, r.out.Verification, counts)
	}
	if got := fmt.Sprint(dumpRows(t, app, `SELECT id, account_id FROM posts ORDER BY id`)); got != posts {
		t.Errorf("posts left %s; want %s", got, posts)
	}
}
