package registry_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

const reportBase = `
stores: {app: {kind: sql, driver: sqlite, dsn_env: APP_DB}}
labels: {user.content.goal: "Your goals"}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    references: {user_id: users.id}
    json: {doc: ["messages[*].content"]}
    erasure: delete
    report: {show: conversations, title: title, time: created_at}
  app.messages:
    references: {chat_id: chats.id}
    json: {body: ["parts[*].text"]}
    erasure: delete
    label: Messages
`

// TestReportHints: a report hint is parsed, kept in the canonical form,
// and refused with the path named when it cannot be shown.
func TestReportHints(t *testing.T) {
	src := reportBase + `    report: {show: messages, conversation: chat_id, author: role, text: "body.parts[*].text", time: created_at}` + "\n"
	r, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Collections["app.messages"]
	if m.Label != "Messages" || m.Report.Show != registry.ShowMessages || m.Report.Text.Column != "body" ||
		m.Report.Text.Path.Raw != "parts[*].text" || r.Labels["user.content.goal"] != "Your goals" {
		t.Fatalf("parsed %+v, labels %v", m.Report, r.Labels)
	}
	canon := r.Marshal()
	if !strings.Contains(string(canon), "body.parts[*].text") || !strings.Contains(string(canon), "Your goals") {
		t.Errorf("canonical form lacks the hints:\n%s", canon)
	}
	for _, c := range []struct{ name, hint, want string }{
		{"unknown show", `{show: table}`, `collections.app.messages.report.show: unknown "table"`},
		{"no text", `{show: messages, conversation: chat_id}`, "names its conversation (the reference column) and its text"},
		{"not a conversation", `{show: messages, conversation: id, text: x}`, "must be a reference to a collection shown as conversations"},
		{"not a JSON column", `{show: messages, conversation: chat_id, text: "note.text"}`, `"note" is not a JSON column`},
	} {
		_, err := registry.Parse([]byte(reportBase + "    report: " + c.hint + "\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
