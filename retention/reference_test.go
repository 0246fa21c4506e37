package retention_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestPurgeFollowsReferenceConditions: notes hang from chats or uploads by
// (subject_type, subject_id); purging old chats removes the notes of those
// chats only, not an upload's note that has the same id.
func TestPurgeFollowsReferenceConditions(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixture(t, driver, "")
		src := strings.Replace(fmt.Sprintf(fixtureRegistry, driver), "retention: {batch_size: 2}\n", `  app.notes:
    references:
      subject_id: {ref: chats.id, where: {subject_type: chat}}
    erasure: delete
retention: {batch_size: 2}
`, 1)
		f.useRegistry(t, src)
		for _, stmt := range []string{
			`CREATE TABLE notes (id BIGINT PRIMARY KEY, subject_type VARCHAR(16) NOT NULL, subject_id BIGINT NOT NULL)`,
			// Chat 10 (40 days old) is purged, chat 11 (5 days) is not; 10 is also an upload's id here.
			`INSERT INTO notes (id, subject_type, subject_id) VALUES (1, 'chat', 10), (2, 'upload', 10), (3, 'chat', 11), (4, 'Chat', 10)`,
		} {
			if err := f.store.DB().Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.sweeper(nil).Run(context.Background(), retention.Options{}); err != nil {
			t.Fatal(err)
		}
		got := f.rows(t, "notes", "subject_type")
		want := map[string]string{"2": "upload", "3": "chat", "4": "Chat"}
		if !maps.Equal(got, want) {
			t.Errorf("notes = %v, want %v: only chat 10's note purged", got, want)
		}
	})
}

// TestRedactTenantFollowsReferenceConditions: a note reaches its tenant
// through a conditional reference; a note of another subject type with the
// same id has no tenant by it, so it is not redacted with the chat's
// tenant's pseudonyms.
func TestRedactTenantFollowsReferenceConditions(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f, k := newNumbersFixture(t, driver)
		ts := testkit.TimestampType(driver)
		src := strings.Replace(fmt.Sprintf(numbersRegistry, driver), "  app.uploads:", `  app.notes:
    references:
      subject_id: {ref: chats.id, where: {subject_type: chat}}
    categories: {body: user.content.chat}
    retention: {window: 30d, timestamp: created_at, redact_after: 2d}
    erasure: delete
  app.uploads:`, 1)
		f.useRegistry(t, src)
		const body = "write to alice@example.com"
		if err := f.store.DB().Exec(`CREATE TABLE notes (id BIGINT PRIMARY KEY, subject_type VARCHAR(16) NOT NULL, subject_id BIGINT NOT NULL, body TEXT, created_at ` + ts + ` NOT NULL)`).Error; err != nil {
			t.Fatal(err)
		}
		// Chat 11 is studio s1's; 11 is also an upload's id here.
		if err := f.store.DB().Exec(`INSERT INTO notes (id, subject_type, subject_id, body, created_at) VALUES (1, 'chat', 11, ?, ?), (2, 'upload', 11, ?, ?)`,
			body, t0.Add(-5*day), body, t0.Add(-5*day)).Error; err != nil {
			t.Fatal(err)
		}
		sw := f.sweeper(nil)
		sw.Redactors = k
		if _, err := sw.Run(context.Background(), retention.Options{}); err != nil {
			t.Fatal(err)
		}
		s1, _ := k.For("s1").Redact(body)
		none, _ := k.For("").Redact(body)
		if s1 == none || s1 == body {
			t.Fatalf("the tenants' pseudonyms do not differ: %q %q", s1, none)
		}
		want := map[string]string{"1": s1, "2": none}
		if got := f.rows(t, "notes", "body"); !maps.Equal(got, want) {
			t.Errorf("notes = %v, want %v", got, want)
		}
	})
}
