package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRedactMapWildcard: the redact action reaches message contents in a
// map keyed by message id (history.messages.*.content), as chat apps store
// them, and leaves the rest of the document as it was.
func TestRedactMapWildcard(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newNumbersFixture(t, driver)
		src := strings.Replace(fmt.Sprintf(numbersRegistry, driver), `json: {meta: ["payment.card", "author.email"]}`,
			`json: {meta: ["history.messages.*.content"]}`, 1)
		f.useRegistry(t, src)
		meta := `{"history":{"currentId":"b","messages":{"a":{"content":"card ` + card + `","role":"user"},"b":{"content":"write to alice@example.com","role":"assistant"}}}}`
		if err := f.store.DB().Exec(`UPDATE messages SET meta = ?`, meta).Error; err != nil {
			t.Fatal(err)
		}
		sw := f.sweeper(nil)
		sw.Redactors = k
		run, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		redacted := 0
		for id, m := range f.rows(t, "messages", "meta") {
			if m == meta {
				continue // not old enough to redact
			}
			redacted++
			var doc struct {
				History struct {
					CurrentID string                       `json:"currentId"`
					Messages  map[string]map[string]string `json:"messages"`
				} `json:"history"`
			}
			if err := json.Unmarshal([]byte(m), &doc); err != nil {
				t.Fatalf("message %s: meta is not JSON: %s", id, m)
			}
			a, b := doc.History.Messages["a"], doc.History.Messages["b"]
			if strings.Contains(m, card) || strings.Contains(m, "alice@example.com") || a["role"] != "user" || b["role"] != "assistant" || doc.History.CurrentID != "b" {
				t.Errorf("message %s: meta = %s; want both contents pseudonymised, the rest kept", id, m)
			}
		}
		if redacted == 0 || int64(redacted) != run.Totals().RowsRedacted {
			t.Errorf("%d metas redacted; run counted %d rows", redacted, run.Totals().RowsRedacted)
		}
	})
}
