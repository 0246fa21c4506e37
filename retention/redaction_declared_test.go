package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRedactDeclaredPathsWhole: a column or JSON path declared with a name
// or contact category (user.name, user.contact.email, or a category the
// registry marks under identifying) is replaced whole by its tenant's
// pseudonym, though no detector finds a name; a second sweep changes
// nothing.
func TestRedactDeclaredPathsWhole(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f, k := newNumbersFixture(t, driver)
		src := strings.NewReplacer(
			`categories: {body: user.content.chat, card_no: user.payment.card}`,
			`categories: {body: user.content.chat, sender: user.name, nick: hr.nickname, meta.author.name: user.name, meta.author.email: user.contact.email}`,
			`json: {meta: ["payment.card", "author.email"]}`, `json: {meta: ["author.name", "author.email"]}`,
		).Replace(fmt.Sprintf(numbersRegistry, driver)) + "identifying: {hr.*: name}\n"
		f.useRegistry(t, src)
		db := f.store.DB()
		for _, s := range []string{`ALTER TABLE messages ADD COLUMN sender TEXT`, `ALTER TABLE messages ADD COLUMN nick TEXT`} {
			if err := db.Exec(s).Error; err != nil {
				t.Fatal(err)
			}
		}
		meta := `{"author":{"email":"grace@example.com","name":"Grace Hopper"},"n":7}`
		if err := db.Exec(`UPDATE messages SET meta = ?, sender = ?, nick = ?`, meta, "Grace Hopper", "Amazing Grace").Error; err != nil {
			t.Fatal(err)
		}
		sw := f.sweeper(nil)
		sw.Redactors = k
		run, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		after := f.rows(t, "messages", "meta", "sender", "nick")
		redacted := 0
		for id, joined := range after {
			row := strings.Split(joined, "|")
			if row[0] == meta {
				continue // newer than redact_after
			}
			redacted++
			tenant := ""
			for _, c := range chats {
				if fmt.Sprint(c.id) == id[:2] {
					tenant = c.studio
				}
			}
			r := k.For(tenant)
			name := r.Pseudonym(redact.Name, "Grace Hopper")
			var doc struct {
				Author struct{ Email, Name string } `json:"author"`
				N      int                          `json:"n"`
			}
			if err := json.Unmarshal([]byte(row[0]), &doc); err != nil {
				t.Fatalf("message %s: meta is no longer JSON: %s", id, row[0])
			}
			if doc.Author.Name != name || doc.Author.Email != r.Pseudonym(redact.Email, "grace@example.com") || doc.N != 7 {
				t.Errorf("message %s: meta = %s; want author.name %s and the address pseudonymised whole, n kept", id, row[0], name)
			}
			if row[1] != name {
				t.Errorf("message %s: sender = %q; want %s", id, row[1], name)
			}
			if want := r.Pseudonym(redact.Name, "Amazing Grace"); row[2] != want {
				t.Errorf("message %s: nick (hr.nickname, marked identifying) = %q; want %s", id, row[2], want)
			}
		}
		if redacted == 0 || int64(redacted) != run.Totals().RowsRedacted {
			t.Errorf("%d messages redacted; run counted %d", redacted, run.Totals().RowsRedacted)
		}
		again, err := sw.Run(ctx, retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := again.Totals().RowsRedacted; n != 0 {
			t.Errorf("second sweep redacted %d rows; want 0: a pseudonym is never pseudonymised again", n)
		}
		if final := f.rows(t, "messages", "meta", "sender", "nick"); !equalMaps(final, after) {
			t.Error("second sweep changed the messages")
		}
	})
}
