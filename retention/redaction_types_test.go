package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// numbersRegistry is the fixture's without files or a batch size; it
// redacts, by default, messages' body, the categorised BIGINT column
// card_no and meta's declared paths, one of which holds a JSON number.
var numbersRegistry = strings.NewReplacer(
	"  files: {kind: blob, url: \"mem://\"}\n", "",
	"    references: {chat_id: chats.id}\n    retention: {window: 30d, timestamp: created_at}\n",
	"    references: {chat_id: chats.id}\n    categories: {body: user.content.chat, card_no: user.payment.card}\n"+
		"    json: {meta: [\"payment.card\", \"author.email\"]}\n"+
		"    retention: {window: 30d, timestamp: created_at, redact_after: 2d}\n",
	"    files: {storage_key: files}\n    retention: {window: 7d, timestamp: created_at}\n", "",
	"retention: {batch_size: 2}\n", "",
).Replace(fixtureRegistry)

// card is a Luhn-valid card number, stored as a number.
const card = "4111111111111111"

func newNumbersFixture(t *testing.T, driver string) (*fixture, *redact.Keyring) {
	t.Helper()
	f := newFixture(t, driver, "")
	f.useRegistry(t, fmt.Sprintf(numbersRegistry, driver))
	db := f.store.DB()
	for _, s := range []string{`ALTER TABLE messages ADD COLUMN meta TEXT`, `ALTER TABLE messages ADD COLUMN card_no BIGINT`} {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	meta := `{"author":{"email":"alice@example.com"},"payment":{"card":` + card + `},"n":7}`
	if err := db.Exec(`UPDATE messages SET body = ?, meta = ?, card_no = ?`, "card "+card, meta, int64(4111111111111111)).Error; err != nil {
		t.Fatal(err)
	}
	k, err := redact.NewKeyring([]byte(redactSecret))
	if err != nil {
		t.Fatal(err)
	}
	return f, k
}

// TestRedactNumbersKeepsJSONAndColumnTypes: a card number stored as a JSON
// number under a redacted path becomes a pseudonym string, so meta stays
// valid JSON; the BIGINT column card_no, categorised and so redacted by
// default, is skipped (not text), and the sweep completes.
func TestRedactNumbersKeepsJSONAndColumnTypes(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newNumbersFixture(t, driver)
		sw := f.sweeper(nil)
		sw.Redactors = k
		before := f.rows(t, "messages", "card_no")
		run, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != retention.StatusCompleted || run.Totals().RowsRedacted == 0 {
			t.Fatalf("run status %s, %d rows redacted; want completed with rows redacted", run.Status, run.Totals().RowsRedacted)
		}
		for id, v := range f.rows(t, "messages", "card_no") { // rows older than 30d are gone
			if v != before[id] {
				t.Errorf("message %s: the BIGINT column card_no was rewritten: %s, was %s", id, v, before[id])
			}
		}
		redacted := 0
		for id, meta := range f.rows(t, "messages", "meta") {
			if !json.Valid([]byte(meta)) {
				t.Errorf("message %s: meta is not JSON after the sweep: %s", id, meta)
			}
			if !strings.Contains(meta, card) {
				redacted++
				if !strings.Contains(meta, `"card":"<card:`) || !strings.Contains(meta, `"n":7`) {
					t.Errorf("message %s: meta = %s; want the card as a pseudonym string, the rest kept", id, meta)
				}
			}
		}
		if int64(redacted) != run.Totals().RowsRedacted {
			t.Errorf("%d metas redacted; run counted %d rows", redacted, run.Totals().RowsRedacted)
		}
	})
}

// TestRedactNeverRewritesAWholeJSONColumn: were a JSON column listed in
// redact without a path (the registry refuses it), the sweep leaves it
// alone rather than redact the document as text, which would write the
// pseudonym of a number unquoted.
func TestRedactNeverRewritesAWholeJSONColumn(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newNumbersFixture(t, driver)
		f.reg.Collections["app.messages"].Retention.Redact = []registry.Field{{Column: "meta"}}
		sw := f.sweeper(nil)
		sw.Redactors = k
		before := f.rows(t, "messages", "meta")
		if _, err := sw.Run(ctx, retention.Options{}); err != nil {
			t.Fatal(err)
		}
		for id, meta := range f.rows(t, "messages", "meta") {
			if !json.Valid([]byte(meta)) || meta != before[id] {
				t.Errorf("message %s: meta = %s; want it untouched", id, meta)
			}
		}
	})
}
