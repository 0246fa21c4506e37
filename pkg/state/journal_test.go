package state_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// twoErasures files two erasures of one person and returns them with the
// first one's journal: the second's must stay apart from it.
func twoErasures(t *testing.T, b *bundle) (r, other *dsr.Request, j dsr.Journal) {
	r = b.create(t, admin, dsr.TypeErasure, "lee@example.com", "")
	other = b.create(t, admin, dsr.TypeErasure, "lee@example.com", "")
	return r, other, b.runs.Journal(r.ID)
}

func TestJournalSteps(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r, other, j := twoErasures(t, b)
		at := t0.Add(time.Hour)
		for _, s := range []dsr.Step{
			{Name: "plan", Status: "done", Count: 3},
			{Name: "erase app.chats", Status: "running", At: at},
			{Name: "plan", Status: "redone", Count: 4, Detail: "registry v2", At: at},
		} {
			if err := j.SaveStep(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		steps, err := j.Steps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []dsr.Step{
			{Name: "plan", Status: "redone", Count: 4, Detail: "registry v2", At: at.Truncate(time.Microsecond)},
			{Name: "erase app.chats", Status: "running", At: at.Truncate(time.Microsecond)},
		}
		if len(steps) != len(want) {
			t.Fatalf("steps %+v, want %+v", steps, want)
		}
		for i := range want {
			if steps[i] != want[i] {
				t.Errorf("step %d = %+v, want %+v", i, steps[i], want[i])
			}
		}
		if s, err := b.runs.Journal(other.ID).Steps(ctx); err != nil || len(s) != 0 {
			t.Errorf("another request's journal has steps %+v, %v", s, err)
		}
		if err := b.runs.Journal(r.ID).SaveStep(ctx, dsr.Step{Name: "verify", Status: "done"}); err != nil {
			t.Fatal(err)
		}
		steps, _ = j.Steps(ctx)
		if len(steps) != 3 || steps[2].Name != "verify" || !steps[2].At.Equal(t0.Truncate(time.Microsecond)) {
			t.Errorf("a step without a time takes the clock's: %+v", steps)
		}
	})
}

func TestJournalFrozenKeys(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		_, other, j := twoErasures(t, b)
		var users []string
		for i := range 1203 {
			users = append(users, fmt.Sprintf("%06d", i*7))
		}
		// Frozen twice, in two overlapping calls and with duplicates inside one
		// call, as a restarted execution would.
		if err := j.FreezeKeys(ctx, "app.users", users[:800]); err != nil {
			t.Fatal(err)
		}
		if err := j.FreezeKeys(ctx, "app.users", append(users[600:], users[600], users[1202])); err != nil {
			t.Fatal(err)
		}
		if err := j.FreezeKeys(ctx, "uploads.files", []string{"cv/b.pdf", "cv/a.pdf"}); err != nil {
			t.Fatal(err)
		}
		if err := b.runs.Journal(other.ID).FreezeKeys(ctx, "app.users", []string{"999999"}); err != nil {
			t.Fatal(err)
		}

		var got []string
		after := ""
		for range 10 {
			page, err := j.FrozenKeys(ctx, "app.users", after, 500)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 500 {
				t.Fatalf("page of %d keys, limit 500", len(page))
			}
			got = append(got, page...)
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(got, users) {
			t.Errorf("frozen app.users: %d keys (first %v), want the %d frozen, once each, in order", len(got), got[:min(5, len(got))], len(users))
		}
		files, err := j.FrozenKeys(ctx, "uploads.files", "", 10)
		if err != nil || !slices.Equal(files, []string{"cv/a.pdf", "cv/b.pdf"}) {
			t.Errorf("frozen uploads.files = %v, %v", files, err)
		}
		if none, err := j.FrozenKeys(ctx, "app.chats", "", 10); err != nil || len(none) != 0 {
			t.Errorf("a set never frozen has keys %v, %v", none, err)
		}
	})
}

func TestJournalSnapshot(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		_, other, j := twoErasures(t, b)
		for _, tc := range []struct {
			name, data, want string
		}{
			{name: "first", data: `{"registry":"v1"}`, want: `{"registry":"v1"}`},
			{name: "second loses", data: `{"registry":"v2"}`, want: `{"registry":"v1"}`},
		} {
			got, err := j.Snapshot(ctx, []byte(tc.data))
			if err != nil || string(got) != tc.want {
				t.Errorf("%s snapshot = %s, %v; want %s", tc.name, got, err, tc.want)
			}
		}
		if got, err := b.runs.Journal(other.ID).Snapshot(ctx, []byte(`{"registry":"v2"}`)); err != nil || string(got) != `{"registry":"v2"}` {
			t.Errorf("another request's snapshot = %s, %v", got, err)
		}
		if _, err := b.runs.Journal("0190f3a0-0000-7000-8000-000000000000").Snapshot(ctx, []byte(`{}`)); err == nil {
			t.Error("snapshot of an unknown request succeeded")
		}
	})
}

// TestJournalForgetsKeysAtTheEnd: once a request is final, by any way to
// the end (finished by the runner, cancelled by its owner), its frozen
// keys and its steps' cursors are gone, while its steps and counts stay;
// another request's journal is untouched.
func TestJournalForgetsKeysAtTheEnd(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		const addr = "ann.keys@example.com"
		fill := func(id string) {
			j := b.runs.Journal(id)
			if err := j.FreezeKeys(ctx, "app.newsletter(email)", []string{addr}); err != nil {
				t.Fatal(err)
			}
			if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.newsletter", Status: "running", Count: 1,
				Detail: `{"pass":0}`, Cursor: addr}); err != nil {
				t.Fatal(err)
			}
			// A step journaled before cursors had their own column.
			if err := j.SaveStep(ctx, dsr.Step{Name: "erase app.legacy", Status: "running", Count: 1,
				Detail: `{"pass":1,"after":"` + addr + `"}`}); err != nil {
				t.Fatal(err)
			}
			steps, err := j.Steps(ctx)
			if err != nil || len(steps) != 2 || steps[0].Cursor != addr {
				t.Fatalf("the cursor is not kept while the request runs: %+v, %v", steps, err)
			}
		}
		finished := b.create(t, admin, dsr.TypeErasure, addr, "")
		cancelled := b.create(t, admin, dsr.TypeErasure, addr, "")
		open := b.create(t, admin, dsr.TypeErasure, addr, "")
		for _, r := range []*dsr.Request{finished, cancelled, open} {
			fill(r.ID)
		}
		run, _, err := b.runs.Start(ctx, finished.ID, b.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		run.Status = dsr.StatusFailed
		run.Err = dsr.Errorf(dsr.EUNAVAILABLE, "store app is down")
		if err := b.runs.Finish(ctx, run, dsr.AuditEvent{Actor: "lethe", Action: "request.failed", RequestID: run.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.requests.Cancel(ctx, admin, cancelled.ID, "no longer wanted"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{finished.ID, cancelled.ID} {
			if n := b.count(t, "lethe_request_keys", "request_id = ?", id); n != 0 {
				t.Errorf("request %s ended with %d frozen keys left", id, n)
			}
			if n := b.count(t, "lethe_request_steps", "request_id = ? AND cursor IS NOT NULL", id); n != 0 {
				t.Errorf("request %s ended with %d step cursors left", id, n)
			}
			steps, err := b.runs.Journal(id).Steps(ctx)
			if err != nil || len(steps) != 2 || steps[0].Count != 1 || steps[0].Cursor != "" || steps[1].Detail != `{"pass":1}` {
				t.Errorf("steps of ended request %s: %+v, %v; want the steps and their counts, no cursor, no legacy resume point", id, steps, err)
			}
		}
		if n := b.count(t, "lethe_request_keys", "request_id = ?", open.ID); n != 1 {
			t.Errorf("an open request lost its frozen keys: %d left", n)
		}
		if n := b.count(t, "lethe_request_keys", "key = ?", addr) + b.count(t, "lethe_request_steps", "cursor = ?", addr) +
			b.count(t, "lethe_request_steps", "detail LIKE ?", "%"+addr+"%"); n != 3 {
			t.Errorf("the address is held %d times; want only by the open request's key, cursor and legacy step", n)
		}
	})
}

// TestStepDetailsMigration: migration 0010 removes the legacy resume point
// from the step details of requests that ended before it, leaves a running
// request's (it resumes from it) and a detail that is not JSON as they are.
func TestStepDetailsMigration(t *testing.T) {
	t.Parallel()
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := testkit.StateURL(t, dialect)
		versions, files := embedded(t, dialect)
		at := migrationVersion(t, files, versions, "_step_details.sql")
		raw := openRaw(t, dialect, url)
		applyBelow(t, raw, files, versions, at)
		for _, r := range []struct{ id, status string }{{"ended", "completed"}, {"running", "running"}} {
			mustExec(t, raw, rebind(dialect, `INSERT INTO lethe_requests (id, type, status, tenant, subject, created_at, updated_at, due_at)
				VALUES (?, 'erasure', ?, '', 's', ?, ?, ?)`), r.id, r.status, t0, t0, t0)
			mustExec(t, raw, rebind(dialect, `INSERT INTO lethe_request_steps (request_id, name, seq, status, count, detail, at)
				VALUES (?, 'erase app.users', 1, 'running', 3, ?, ?)`), r.id, `{"pass":1,"after":"ann@example.com"}`, t0)
		}
		mustExec(t, raw, rebind(dialect, `INSERT INTO lethe_request_steps (request_id, name, seq, status, count, detail, at)
			VALUES ('ended', 'odd', 2, 'done', 0, ?, ?)`), `not json "after"`, t0)
		raw.Close()

		db, err := openAt(ctx, t, dialect, url, versions, at)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		details := map[string]string{}
		var rows []struct{ RequestID, Name, Detail string }
		if err := db.Gorm.Raw("SELECT request_id, name, detail FROM lethe_request_steps").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			details[r.RequestID+"/"+r.Name] = strings.ReplaceAll(r.Detail, " ", "")
		}
		want := map[string]string{"ended/erase app.users": `{"pass":1}`, "ended/odd": `not json "after"`,
			"running/erase app.users": `{"pass":1,"after":"ann@example.com"}`}
		for k, v := range want {
			if details[k] != strings.ReplaceAll(v, " ", "") {
				t.Errorf("detail of %s = %q, want %q", k, details[k], v)
			}
		}
	})
}
