package retention_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// privacyRegistry is the fixture's with the responses marked, and a redact
// action on messages: text redacted after 2 days, rows deleted after 30.
var privacyRegistry = strings.NewReplacer(
	"    references: {user_id: users.id}\n", "    references: {user_id: users.id}\n    responses: true\n",
	"    references: {chat_id: chats.id}\n    retention: {window: 30d, timestamp: created_at}\n",
	"    references: {chat_id: chats.id}\n    categories: {body: user.content.chat}\n"+
		"    json: {meta: [\"author.email\", \"parts[*].text\"]}\n    responses: true\n"+
		"    retention: {window: 30d, timestamp: created_at, redact_after: 2d}\n",
	"    files: {storage_key: files}\n", "    files: {storage_key: files}\n    responses: true\n",
).Replace(fixtureRegistry)

const redactSecret = "retention-test-redact-secret-0123456789"

// newPrivacyFixture is the fixture under privacyRegistry, its messages
// carrying personal data: the author's email and a phone number in body,
// and the same in the JSON column meta.
func newPrivacyFixture(t *testing.T, driver string) (*fixture, *redact.Keyring) {
	t.Helper()
	f := newFixture(t, driver, "")
	f.useRegistry(t, fmt.Sprintf(privacyRegistry, driver))
	db := f.store.DB()
	if err := db.Exec(`ALTER TABLE messages ADD COLUMN meta TEXT`).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range chats {
		for i := range 3 {
			id := c.id*10 + int64(i)
			email := users[c.user]
			body := fmt.Sprintf("I am %s, call me on +44 20 7946 0%03d. Also cc shared@example.com.", email, id)
			meta := fmt.Sprintf(`{"author":{"email":%q,"role":"user"},"parts":[{"text":"reach %s"},{"n":%d}]}`, email, email, id)
			if err := db.Exec(`UPDATE messages SET body = ?, meta = ? WHERE id = ?`, body, meta, id).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	k, err := redact.NewKeyring([]byte(redactSecret))
	if err != nil {
		t.Fatal(err)
	}
	return f, k
}

// rows returns "id|col1|col2…" for each row of table, by id.
func (f *fixture) rows(t *testing.T, table string, cols ...string) map[string]string {
	t.Helper()
	sel := "SELECT " + strings.Join(append([]string{"id"}, cols...), ", ") + " FROM " + table
	rs, err := f.store.DB().Raw(sel).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		vals := make([]any, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			parts[i] = fmt.Sprint(v)
		}
		out[parts[0]] = strings.Join(parts[1:], "|")
	}
	return out
}

func (f *fixture) collect(t *testing.T, tenant string, on bool) {
	t.Helper()
	st, err := f.parts.settings.Settings(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	st.CollectResponses = on
	if _, err := f.parts.settings.PutSettings(context.Background(), "admin", st); err != nil {
		t.Fatal(err)
	}
}

// TestResponsesPurgedForTheTenantThatStoppedCollecting: s1 turns
// collection off; the responses sweep purges s1's chats, messages and
// uploads (files too) but not the held ones, leaves s2 and s3 row for row,
// records a run of its own kind, and a row s1's app stores later is purged
// by the next tick.
func TestResponsesPurgedForTheTenantThatStoppedCollecting(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newPrivacyFixture(t, driver)
		f.hold(t, "", "carol@example.com") // chat 12 is carol's, in s1
		sw := f.sweeper(nil)
		sw.Redactors = k
		now := t0
		sw.Now = func() time.Time { return now }

		if run, err := sw.RunResponses(ctx, retention.Options{}); run != nil || err != nil {
			t.Fatalf("nobody stopped collecting, yet a run: %+v %v", run, err)
		}
		otherIDs := func() map[string]map[string]string {
			out := map[string]map[string]string{}
			for table, cols := range map[string][]string{"chats": {"studio_id", "user_id", "created_at"},
				"messages": {"chat_id", "body", "meta", "created_at"}, "uploads": {"chat_id", "storage_key", "created_at"}} {
				out[table] = map[string]string{}
				for id, row := range f.rows(t, table, cols...) {
					if !strings.HasPrefix(row, "s1|") && !strings.HasPrefix(id, "1") && !(table == "uploads" && strings.Contains(row, "u/1")) {
						out[table][id] = row
					}
				}
			}
			return out
		}
		others := otherIDs()
		f.collect(t, "s1", false)
		run, err := sw.RunResponses(ctx, retention.Options{})
		if err != nil || run == nil {
			t.Fatalf("responses run: %+v %v", run, err)
		}
		if run.Kind != retention.KindResponses || run.Status != retention.StatusCompleted {
			t.Fatalf("run kind %q status %s", run.Kind, run.Status)
		}
		got := f.snapshot(t)
		wantLeft := map[string][]string{
			"chats":    {"12", "20", "21", "30"},
			"messages": {"120", "121", "122", "200", "201", "202", "210", "211", "212", "300", "301", "302"},
			"uploads":  {"u/30"},
			"users":    {"1", "2", "3"},
		}
		for table, ids := range wantLeft {
			if !slices.Equal(got[table], ids) {
				t.Errorf("%s left %v; want %v", table, got[table], ids)
			}
		}
		if files := f.files(t); !slices.Equal(files, []string{"u/30"}) {
			t.Errorf("blob store left %v; want u/30", files)
		}
		tot := run.Totals()
		if tot.RowsPurged != 3+9+3 || tot.FilesPurged != 3 || tot.RowsHeld == 0 {
			t.Errorf("totals %+v; want 15 rows (3 chats, 9 messages, 3 uploads), 3 files, held rows counted", tot)
		}
		for _, c := range run.Counts {
			if c.Tenant != "s1" {
				t.Errorf("count outside s1: %+v", c)
			}
		}
		after := otherIDs()
		for table := range others {
			for id, row := range others[table] {
				if after[table][id] != row {
					t.Errorf("other tenant's %s row %s changed: %q → %q", table, id, row, after[table][id])
				}
			}
		}
		// Nothing left but held rows: the next tick records no run.
		if again, err := sw.RunResponses(ctx, retention.Options{}); again != nil || err != nil {
			t.Fatalf("second tick: %+v %v; want no run", again, err)
		}
		// The app stores a chat anyway; the next tick, a minute later, purges it.
		if err := f.store.DB().Exec(`INSERT INTO chats (id, studio_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
			99, "s1", 1, now.Add(30*time.Second)).Error; err != nil {
			t.Fatal(err)
		}
		now = now.Add(retention.DefaultResponsesEvery)
		late, err := sw.RunResponses(ctx, retention.Options{})
		if err != nil || late == nil || late.Totals().RowsPurged != 1 {
			t.Fatalf("late tick: %+v %v; want the new chat purged", late, err)
		}
		// The regular sweep is a run of another kind: it neither conflicts
		// with nor resumes the responses runs.
		reg, err := sw.Run(ctx, retention.Options{})
		if err != nil || reg.Kind != retention.KindRetention || reg.Resumes != "" {
			t.Fatalf("retention run after responses runs: %+v %v", reg, err)
		}
		page, err := f.parts.runs.Runs(ctx, retention.RunFilter{Kind: retention.KindResponses})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("responses runs listed: %v %v", page, err)
		}
	})
}

// TestRedactActionRewritesTextOnce: the redact action rewrites, in rows
// older than 2 days and not yet deleted, the personal data of body and of
// meta's declared paths with per-tenant pseudonyms; newer and held rows
// keep their text; a dry run counts the same rows; a second sweep changes
// nothing.
func TestRedactActionRewritesTextOnce(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newPrivacyFixture(t, driver)
		f.hold(t, "", "carol@example.com")
		sw := f.sweeper(nil)
		if _, err := sw.Run(ctx, retention.Options{DryRun: true}); err == nil {
			t.Fatal("a sweeper without Redactors ran redact_after rules")
		}
		sw.Redactors = k
		before := f.rows(t, "messages", "body", "meta")
		dry, err := sw.Run(ctx, retention.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		run, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		redacted := []string{"110", "111", "130", "131", "210", "211"}
		if n := run.Totals().RowsRedacted; n != int64(len(redacted)) || dry.Totals().RowsRedacted != n {
			t.Errorf("redacted %d rows (dry run %d); want %d", n, dry.Totals().RowsRedacted, len(redacted))
		}
		after := f.rows(t, "messages", "body", "meta")
		tenantOf := map[string]string{"11": "s1", "13": "s1", "21": "s2"}
		for id, row := range after {
			if !slices.Contains(redacted, id) {
				if row != before[id] {
					t.Errorf("message %s changed though newer than 2 days or held: %q", id, row)
				}
				continue
			}
			chat := id[:2]
			var u string
			for _, c := range chats {
				if fmt.Sprint(c.id) == chat {
					u = users[c.user]
				}
			}
			for _, value := range []string{u, "shared@example.com", "7946 0"} {
				if strings.Contains(row, value) {
					t.Errorf("message %s still holds %q: %s", id, value, row)
				}
			}
			r := k.For(tenantOf[chat])
			for _, token := range []string{r.Pseudonym(redact.Email, u), r.Pseudonym(redact.Email, "shared@example.com")} {
				if !strings.Contains(row, token) {
					t.Errorf("message %s lacks its tenant's pseudonym %s: %s", id, token, row)
				}
			}
			if !strings.Contains(row, `"role":"user"`) || !strings.Contains(row, `"n":`+id) {
				t.Errorf("message %s lost the JSON it should keep: %s", id, row)
			}
		}
		// The same address reads alike within a tenant, not across tenants.
		if k.For("s1").Pseudonym(redact.Email, "shared@example.com") == k.For("s2").Pseudonym(redact.Email, "shared@example.com") {
			t.Error("two tenants share a pseudonym")
		}
		again, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := again.Totals().RowsRedacted; n != 0 {
			t.Errorf("second sweep redacted %d rows; want 0", n)
		}
		if final := f.rows(t, "messages", "body", "meta"); !equalMaps(final, after) {
			t.Error("second sweep changed the messages")
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
