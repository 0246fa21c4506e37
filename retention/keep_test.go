package retention_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestKeptGrandchildKeepsItsAncestors adds app.reports, kept for a legal
// reason, under app.messages: an expired chat whose message has a report
// must stay with that message (deleting the chat would orphan the message,
// or fail on its foreign key and stall every sweep), while the other
// expired chats go as before.
func TestKeptGrandchildKeepsItsAncestors(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixture(t, driver, "")
		db := f.store.DB()
		if err := db.Exec(`CREATE TABLE reports (id BIGINT PRIMARY KEY, message_id BIGINT NOT NULL REFERENCES messages(id))`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO reports (id, message_id) VALUES (1, 100)`).Error; err != nil { // on chat 10's oldest message
			t.Fatal(err)
		}
		reports := `  app.reports:
    references: {message_id: messages.id}
    erasure: {keep: "legal obligation"}
retention: {batch_size: 2}`
		f.useRegistry(t, strings.Replace(fmt.Sprintf(fixtureRegistry, driver), "retention: {batch_size: 2}", reports, 1))

		run, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != retention.StatusCompleted {
			t.Fatalf("run %s: %+v; want completed", run.Status, run.Err)
		}
		chatsLeft, messagesLeft := f.ids(t, "chats"), f.ids(t, "messages")
		if !slices.Contains(chatsLeft, "10") || !slices.Contains(messagesLeft, "100") {
			t.Errorf("chats %v, messages %v; want chat 10 and its reported message 100 kept", chatsLeft, messagesLeft)
		}
		if slices.Contains(chatsLeft, "12") || slices.Contains(chatsLeft, "20") {
			t.Errorf("chats %v; the other expired chats (12, 20) must still be purged", chatsLeft)
		}
		var orphans int64
		if err := db.Raw(`SELECT count(*) FROM messages WHERE chat_id NOT IN (SELECT id FROM chats)`).Scan(&orphans).Error; err != nil {
			t.Fatal(err)
		} else if orphans != 0 {
			t.Errorf("%d messages left without their chat", orphans)
		}
	})
}
