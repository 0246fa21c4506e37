package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestSelfServiceAcrossSubjectKeyRotation: the subject key is rotated
// (the new key current, the old one previous) between a person receiving
// a code and typing it, and between another receiving a download link and
// following it. The code still opens its request and the link still serves
// its package; with the old key gone neither does.
func TestSelfServiceAcrossSubjectKeyRotation(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		b.start(t)
		tk, code := b.ask(t, "access", "ada@example.com", "career-coach")
		decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
		link := strings.TrimPrefix(b.smtp.Wait(t, "ada@example.com", "ready to download", 20*time.Second).Link(), "http://lethe.test")
		pending, pendingCode := b.ask(t, "erasure", "grace@example.com", "career-coach")

		const newKey = "api-test-rotated-subject-key-0123456789"
		rotate := func(h *dsr.SubjectHasher) { b.svc.Subject, b.store.Requests.Subject = h, h }
		rotate(dsr.NewSubjectHasher([]byte(newKey)))
		if r := b.do(t, "GET", link, "", ""); r.status != http.StatusNotFound {
			t.Fatalf("a link of the old key with the old key dropped: %d; want 404", r.status)
		}
		rotate(dsr.NewSubjectHasher([]byte(newKey)).WithPrevious([]byte(subjectKey)))
		r := b.do(t, "GET", link, "", "")
		if r.status != http.StatusOK || zipEntry(t, r.body, "request.txt") != tk.ID {
			t.Fatalf("the link emailed before the rotation: %d %s; want request %s's package", r.status, r.body, tk.ID)
		}
		got := decode[map[string]any](t, b.verify(t, pending.ID, pendingCode), http.StatusOK)
		if got["status"] != "pending" {
			t.Fatalf("the code emailed before the rotation opened a request that is %v; want pending", got["status"])
		}
	})
}
