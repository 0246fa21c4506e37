package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestSelfSameAnswerForKnownAndUnknownEmail: whether Lethe's data holds an
// address or not, filing answers 202 with the same body shape, stores a
// request and sends a code, and looks nothing up (the executor is not
// called), so there is no early return to time either.
func TestSelfSameAnswerForKnownAndUnknownEmail(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		known, unknown := "ada@example.com", "nobody-here@example.org"
		// Ada is known: an owner request about her already completed.
		b.fileRequest(t, adminToken, "erasure", known, "career-coach")
		replies := map[string]reply{}
		for _, email := range []string{known, unknown} {
			body := `{"type":"access","email":"` + email + `","tenant":"career-coach"}`
			replies[email] = b.do(t, "POST", "/v1/self/requests", "", body)
		}
		var shapes []map[string]any
		for email, r := range replies {
			if r.status != http.StatusAccepted {
				t.Fatalf("%s: status %d: %s", email, r.status, r.body)
			}
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			if m["status"] != "verifying" {
				t.Errorf("%s: status %v, want verifying", email, m["status"])
			}
			if strings.Contains(string(r.body), email) {
				t.Errorf("the reply repeats the address: %s", r.body)
			}
			shapes = append(shapes, m)
		}
		if keys := func(m map[string]any) []string {
			var k []string
			for key := range m {
				k = append(k, key)
			}
			slices.Sort(k)
			return k
		}; !reflect.DeepEqual(keys(shapes[0]), keys(shapes[1])) || !reflect.DeepEqual(replies[known].header.Get("Content-Type"), replies[unknown].header.Get("Content-Type")) {
			t.Errorf("different shapes: %s vs %s", replies[known].body, replies[unknown].body)
		}
		for _, email := range []string{known, unknown} {
			m := b.smtp.Wait(t, email, "Your privacy request code", time.Second)
			if m.Code() == "" {
				t.Errorf("%s: no code in %q", email, m.Body)
			}
			var tk ticketBody
			json.Unmarshal(replies[email].body, &tk)
			got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+tk.ID, adminToken, ""), http.StatusOK)
			if got.Status != "verifying" {
				t.Errorf("%s: stored as %s, want verifying", email, got.Status)
			}
		}
		if n := b.exec.calls.Load(); n != 0 {
			t.Errorf("filing looked the subject up %d times; nothing may run before verification", n)
		}
	})
}

// TestSelfWrongCodeThreeTimesLocks: two wrong codes say how many attempts
// are left, the third denies the request, and then even the right code is
// refused; the address is forgotten at once.
func TestSelfWrongCodeThreeTimesLocks(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		tk, code := b.ask(t, "erasure", "grace@example.com", "career-coach")
		for left := 2; left >= 1; left-- {
			msg := wantError(t, b.verify(t, tk.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
			if !strings.Contains(msg, strconv.Itoa(left)+" attempt") {
				t.Errorf("message %q does not say %d attempt(s) left", msg, left)
			}
		}
		msg := wantError(t, b.verify(t, tk.ID, wrong(code)), http.StatusForbidden, dsr.EFORBIDDEN)
		if !strings.Contains(msg, "locked") {
			t.Errorf("message %q does not say the request is locked", msg)
		}
		wantError(t, b.verify(t, tk.ID, code), http.StatusConflict, dsr.ECONFLICT)
		got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+tk.ID, adminToken, ""), http.StatusOK)
		if got.Status != "denied" || got.Error == nil || !strings.Contains(got.Error.Message, "wrong codes") {
			t.Errorf("request after three wrong codes: %+v", got)
		}
		b.holdsNoAddress(t, tk.ID, "a locked request keeps the address")
		if n := b.exec.calls.Load(); n != 0 {
			t.Errorf("a locked request ran %d times", n)
		}
	})
}

// TestSelfExpiredCodeIsRefused: ten minutes after it was sent the code no
// longer works (410), and the sweep cancels the request and forgets the
// address.
func TestSelfExpiredCodeIsRefused(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		tk, code := b.ask(t, "access", "alan@example.com", "")
		if want := t0.Add(dsr.CodeTTL); !tk.CodeExpiresAt.Equal(want) {
			t.Errorf("code_expires_at %s, want %s", tk.CodeExpiresAt, want)
		}
		b.clock.Advance(dsr.CodeTTL)
		wantError(t, b.verify(t, tk.ID, code), http.StatusGone, dsr.EGONE)
		b.Sweep(t)
		got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+tk.ID, adminToken, ""), http.StatusOK)
		if got.Status != "cancelled" {
			t.Errorf("an expired, unverified request is %s after the sweep, want cancelled", got.Status)
		}
		b.holdsNoAddress(t, tk.ID, "the sweep kept the address")
	})
}

// TestSelfNewRequestKeepsTheOldCode: asking again sends a new code and
// leaves the request still waiting for the old one alone (a stranger
// asking for the address must not cancel its owner's code); each code
// opens its own request only.
func TestSelfNewRequestKeepsTheOldCode(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		first, oldCode := b.ask(t, "access", "katherine@example.com", "calm-mind")
		second, newCode := b.ask(t, "access", "katherine@example.com", "calm-mind")
		if oldCode != newCode {
			// Codes are bound to their request: the new code does not open the old.
			wantError(t, b.verify(t, first.ID, newCode), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		}
		got := decode[map[string]any](t, b.verify(t, first.ID, oldCode), http.StatusOK)
		if got["status"] != "pending" || got["id"] != first.ID {
			t.Errorf("verify the first request after a second was filed: %v", got)
		}
		got = decode[map[string]any](t, b.verify(t, second.ID, newCode), http.StatusOK)
		if got["status"] != "pending" || got["id"] != second.ID {
			t.Errorf("verify the second: %v", got)
		}
	})
}

// TestSelfAccessLink: once verified, the access request runs, the link
// arrives by email, downloads this request's package and no other's, the
// address is then forgotten, and after the package's expiry the link is
// refused.
func TestSelfAccessLink(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		b.start(t)
		ids := map[string]string{}
		for _, email := range []string{"ada@example.com", "grace@example.com"} {
			tk, code := b.ask(t, "access", email, "career-coach")
			got := decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
			if got["status"] != "pending" {
				t.Fatalf("verified request is %v", got["status"])
			}
			ids[email] = tk.ID
		}
		links := map[string]string{}
		for email, id := range ids {
			m := b.smtp.Wait(t, email, "ready to download", 20*time.Second)
			links[email] = m.Link()
			if !strings.HasPrefix(links[email], "http://lethe.test/v1/self/exports/") {
				t.Fatalf("no link in %q", m.Body)
			}
			b.forgotten(t, id)
		}
		if links["ada@example.com"] == links["grace@example.com"] {
			t.Fatal("two requests got the same link")
		}
		for email, link := range links {
			path := strings.TrimPrefix(link, "http://lethe.test")
			r := b.do(t, "GET", path, "", "")
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" {
				t.Fatalf("GET link: %d %s", r.status, r.body)
			}
			if got := zipEntry(t, r.body, "request.txt"); got != ids[email] {
				t.Errorf("the link of %s's request %s served the package of %s", email, ids[email], got)
			}
		}
		// A token that was never issued, even one a character away.
		link := strings.TrimPrefix(links["ada@example.com"], "http://lethe.test")
		tampered := link[:len(link)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(link, "A")]
		wantError(t, b.do(t, "GET", tampered, "", ""), http.StatusNotFound, dsr.ENOTFOUND)
		wantError(t, b.do(t, "GET", "/v1/self/exports/not-a-token", "", ""), http.StatusNotFound, dsr.ENOTFOUND)

		b.clock.Advance(dsr.DefaultExportTTL + time.Hour)
		wantError(t, b.do(t, "GET", link, "", ""), http.StatusGone, dsr.EGONE)
	})
}

// TestSelfErasureConfirmation: a verified erasure runs, the confirmation
// goes to the address, and then the address is held nowhere.
func TestSelfErasureConfirmation(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		b.start(t)
		tk, code := b.ask(t, "erasure", "alan@example.com", "calm-mind")
		decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
		m := b.smtp.Wait(t, "alan@example.com", "erased", 20*time.Second)
		if !strings.Contains(m.Body, "You asked calm-mind to delete") || !strings.Contains(m.Body, "3 records were deleted") ||
			!strings.Contains(m.Body, tk.ID) {
			t.Errorf("confirmation: %q", m.Body)
		}
		got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+tk.ID, adminToken, ""), http.StatusOK)
		if got.Status != "completed" {
			t.Errorf("request is %s", got.Status)
		}
		b.forgotten(t, tk.ID)
		if strings.Contains(b.logs.String(), "alan@example.com") {
			t.Error("the log holds the address")
		}
	})
}

// TestSelfRateLimits: past the limits per IP, filing and verifying answer
// 429 with Retry-After, until the window ends; asking for one address
// many times spends nothing of its own.
func TestSelfRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("ask per IP", func(t *testing.T) {
		forEachDialectSelf(t, selfservice.Limits{AsksPerIP: 2, Window: time.Hour}, func(t *testing.T, b *selfBundle) {
			b.ask(t, "access", "a@example.com", "")
			b.clock.Advance(10 * time.Minute)
			b.ask(t, "access", "b@example.com", "")
			r := b.do(t, "POST", "/v1/self/requests", "", `{"type":"access","email":"c@example.com"}`)
			wantError(t, r, http.StatusTooManyRequests, dsr.ERATELIMITED)
			if got := r.header.Get("Retry-After"); got != "3000" {
				t.Errorf("Retry-After %q, want 3000 (the window's remaining 50 minutes)", got)
			}
			// X-Forwarded-For is not trusted to escape the limit.
			r = b.do(t, "POST", "/v1/self/requests", "", `{"type":"access","email":"c@example.com"}`, "X-Forwarded-For", "203.0.113.9")
			wantError(t, r, http.StatusTooManyRequests, dsr.ERATELIMITED)
			b.clock.Advance(50 * time.Minute)
			b.ask(t, "access", "c@example.com", "") // a new window
		})
	})
	t.Run("asks for one address are not limited by it", func(t *testing.T) {
		forEachDialectSelf(t, selfservice.Limits{AsksPerIP: 50}, func(t *testing.T, b *selfBundle) {
			for range 12 {
				b.ask(t, "access", "ada@example.com", "")
			}
		})
	})
	t.Run("verify per IP", func(t *testing.T) {
		forEachDialectSelf(t, selfservice.Limits{VerifiesPerIP: 4}, func(t *testing.T, b *selfBundle) {
			first, code := b.ask(t, "access", "ada@example.com", "")
			wantError(t, b.verify(t, first.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
			wantError(t, b.verify(t, first.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
			second, code := b.ask(t, "access", "grace@example.com", "")
			wantError(t, b.verify(t, second.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
			wantError(t, b.verify(t, second.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
			// The fifth try from the same IP in the window, even right.
			r := b.verify(t, second.ID, code)
			wantError(t, r, http.StatusTooManyRequests, dsr.ERATELIMITED)
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	})
}

// TestSelfStrangerCannotLockOut: a stranger who asks for someone's address
// again and again, and tries wrong codes on the requests they filed,
// neither cancels the owner's code nor stops the owner from using it:
// their own IP runs out of wrong codes first. Only wrong codes from
// several clients reach the address's limit, which then holds for one
// failure window, not longer.
func TestSelfStrangerCannotLockOut(t *testing.T) {
	t.Parallel()
	limits := selfservice.Limits{FailuresPerIP: 3, FailuresPerEmail: 5, FailureWindow: 15 * time.Minute,
		TrustedProxies: cidrs(t, "127.0.0.0/8", "::1/128")}
	forEachDialectSelf(t, limits, func(t *testing.T, b *selfBundle) {
		const victim, stranger = "198.51.100.7", "203.0.113.66"
		askAs := func(ip string) (ticketBody, string) {
			t.Helper()
			before := len(b.smtp.Messages())
			tk := decode[ticketBody](t, b.do(t, "POST", "/v1/self/requests", "", `{"type":"erasure","email":"ada@example.com","tenant":"calm-mind"}`,
				"X-Forwarded-For", ip), http.StatusAccepted)
			msgs := b.smtp.Messages()
			if len(msgs) != before+1 {
				t.Fatalf("%d messages for one ask", len(msgs)-before)
			}
			return tk, msgs[len(msgs)-1].Code()
		}
		verifyAs := func(ip, id, code string) reply {
			t.Helper()
			return b.do(t, "POST", "/v1/self/requests/"+id+"/verify", "", `{"code":"`+code+`"}`, "X-Forwarded-For", ip)
		}

		mine, myCode := askAs(victim)
		// The stranger asks for the address many times, and tries wrong
		// codes on those requests until their IP is refused.
		var theirs ticketBody
		var theirCode string
		for range 10 {
			theirs, theirCode = askAs(stranger)
		}
		wantError(t, verifyAs(stranger, theirs.ID, wrong(theirCode)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, verifyAs(stranger, theirs.ID, wrong(theirCode)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, verifyAs(stranger, theirs.ID, wrong(theirCode)), http.StatusForbidden, dsr.EFORBIDDEN) // locks that request
		next, nextCode := askAs(stranger)
		wantError(t, verifyAs(stranger, next.ID, wrong(nextCode)), http.StatusTooManyRequests, dsr.ERATELIMITED)
		// The owner's first code still works.
		got := decode[map[string]any](t, verifyAs(victim, mine.ID, myCode), http.StatusOK)
		if got["status"] != "pending" || got["id"] != mine.ID {
			t.Fatalf("the owner's verify after the stranger's attempts: %v", got)
		}

		// Wrong codes from several clients do reach the address's limit:
		// guessing stays bounded. The lock lasts one failure window.
		// The stranger's 3 and 2 more from a second client make the 5.
		other, otherCode := askAs(victim)
		accomplice, code := askAs("203.0.113.67")
		wantError(t, verifyAs("203.0.113.67", accomplice.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		wantError(t, verifyAs("203.0.113.67", accomplice.ID, wrong(code)), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
		r := verifyAs(victim, other.ID, otherCode)
		wantError(t, r, http.StatusTooManyRequests, dsr.ERATELIMITED)
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 || s > 15*60 {
			t.Errorf("Retry-After %q, want at most the 15-minute failure window", r.header.Get("Retry-After"))
		}
		b.clock.Advance(15 * time.Minute)
		again, code := askAs(victim) // the earlier code expired meanwhile
		if got := decode[map[string]any](t, verifyAs(victim, again.ID, code), http.StatusOK); got["status"] != "pending" {
			t.Errorf("the owner's verify after the failure window: %v", got)
		}
	})
}

// TestSelfBadInput: the errors say what to change and never echo the address.
func TestSelfBadInput(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"bad type", `{"type":"delete","email":"ada@example.com"}`, 422, dsr.EUNPROCESSABLE},
		{"bad email", `{"type":"access","email":"Ada <ada@example.com>"}`, 422, dsr.EUNPROCESSABLE},
		{"bad tenant", `{"type":"access","email":"ada@example.com","tenant":"../x"}`, 422, dsr.EUNPROCESSABLE},
		{"unknown field", `{"type":"access","email":"ada@example.com","admin":true}`, 400, dsr.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "POST", "/v1/self/requests", "", tc.body)
			if msg := wantError(t, r, tc.status, tc.code); strings.Contains(msg, "ada@") {
				t.Errorf("message repeats the address: %s", msg)
			}
		})
	}
	wantError(t, b.verify(t, "0190a0a0-0000-7000-8000-000000000000", "123456"), http.StatusNotFound, dsr.ENOTFOUND)
	// An owner's request cannot be verified by anyone.
	owner := b.fileRequest(t, adminToken, "access", "ada@example.com", "")
	wantError(t, b.verify(t, owner.ID, "123456"), http.StatusNotFound, dsr.ENOTFOUND)
	tk, _ := b.ask(t, "access", "ada@example.com", "")
	wantError(t, b.verify(t, tk.ID, "12ab"), http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE)
}

// TestSelfOwnerCancelForgetsTheAddress: a self-service request that its
// studio cancels before the code comes back keeps no address after the
// sweep, and its code no longer works.
func TestSelfOwnerCancelForgetsTheAddress(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		tk, code := b.ask(t, "erasure", "ada@example.com", "career-coach")
		decode[requestBody](t, b.do(t, "POST", "/v1/requests/"+tk.ID+"/cancel", adminToken, `{"reason":"no longer wanted"}`), http.StatusOK)
		wantError(t, b.verify(t, tk.ID, code), http.StatusConflict, dsr.ECONFLICT)
		b.Sweep(t)
		b.holdsNoAddress(t, tk.ID, "a cancelled request keeps the address")
	})
}

// TestSelfFailedNoticeIsRetried: when the mail server refuses the closing
// notice, the address stays in the outbox (and only there) until the sweep
// sends it, and is then forgotten.
func TestSelfFailedNoticeIsRetried(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		tk, code := b.ask(t, "erasure", "grace@example.com", "")
		decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
		b.smtp.SetReject("grace@example.com")
		b.start(t)
		if err := b.noticeTried(t, tk.ID); err == nil {
			t.Fatal("the Runner's notice to a refusing mailbox reported no error")
		}
		if got := b.ended(t, adminToken, tk.ID); got.Status != "completed" {
			t.Fatalf("request ended %s, want completed", got.Status)
		}
		if outbox, email := b.selfColumns(t, tk.ID); outbox != "grace@example.com" || email != "" {
			t.Fatalf("after a refused notice: outbox %q, request %q; want the address in the outbox only", outbox, email)
		}
		b.smtp.SetReject("")
		b.clock.Advance(2 * time.Minute)
		b.Sweep(t)
		b.smtp.Wait(t, "grace@example.com", "erased", time.Second)
		if outbox, _ := b.selfColumns(t, tk.ID); outbox != "" {
			t.Errorf("after the sweep sent the notice the outbox keeps %q", outbox)
		}
		if strings.Contains(b.logs.String(), "grace@example.com") {
			t.Error("the log holds the address")
		}
	})
}

// TestSelfRefusingMailboxDoesNotHoldBackOthers: a mailbox that keeps
// refusing its closing notice does not stop the notices after it, and its
// address is forgotten (and the abandonment audited) once retrying ends.
func TestSelfRefusingMailboxDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	forEachDialectSelf(t, selfservice.Limits{}, func(t *testing.T, b *selfBundle) {
		var ids []string
		for _, email := range []string{"grace@example.com", "alan@example.com"} {
			tk, code := b.ask(t, "erasure", email, "")
			decode[map[string]any](t, b.verify(t, tk.ID, code), http.StatusOK)
			ids = append(ids, tk.ID)
		}
		b.smtp.SetReject("grace@example.com,alan@example.com")
		b.start(t)
		for _, id := range ids {
			if err := b.noticeTried(t, id); err == nil {
				t.Fatalf("the Runner's notice of %s to a refusing mailbox reported no error", id)
			}
		}
		b.smtp.SetReject("grace@example.com") // Grace's mailbox is gone for good
		b.clock.Advance(2 * time.Minute)
		if err := b.svc.Sweep(t.Context()); err == nil {
			t.Error("the sweep reported no error for Grace's refused notice")
		}
		b.smtp.Wait(t, "alan@example.com", "erased", time.Second)
		if outbox, _ := b.selfColumns(t, ids[0]); outbox != "grace@example.com" {
			t.Fatalf("Grace's outbox = %q; still retried within the deadline", outbox)
		}
		b.clock.Advance(8 * 24 * time.Hour)
		b.Sweep(t)
		b.holdsNoAddress(t, ids[0], "after giving up the address is still held")
		entries := decode[struct {
			Items []struct {
				Action string `json:"action"`
			} `json:"items"`
		}](t, b.do(t, "GET", "/v1/audit?request_id="+ids[0], adminToken, ""), http.StatusOK)
		found := false
		for _, e := range entries.Items {
			found = found || e.Action == "notice.abandoned"
		}
		if !found {
			t.Errorf("no notice.abandoned audit entry: %+v", entries.Items)
		}
	})
}

// Sweep runs the self-service sweep and fails t on an error.
func (b *selfBundle) Sweep(t *testing.T) {
	t.Helper()
	if err := b.svc.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestSelfConcurrentGuessesBounded: wrong codes sent all at once from one
// client are bounded by its failure limit as surely as codes sent one
// after another: each is counted before it is checked.
func TestSelfConcurrentGuessesBounded(t *testing.T) {
	t.Parallel()
	limits := selfservice.Limits{FailuresPerIP: 3, FailuresPerEmail: 1000, VerifiesPerIP: 1000, AsksPerIP: 1000,
		TrustedProxies: cidrs(t, "127.0.0.0/8", "::1/128")}
	forEachDialectSelf(t, limits, func(t *testing.T, b *selfBundle) {
		const guesser = "203.0.113.80"
		type ticket struct{ id, code string }
		var tickets []ticket
		for range 8 {
			tk := decode[ticketBody](t, b.do(t, "POST", "/v1/self/requests", "", `{"type":"erasure","email":"ada@example.com","tenant":"calm-mind"}`,
				"X-Forwarded-For", "198.51.100.9"), http.StatusAccepted)
			msgs := b.smtp.Messages()
			tickets = append(tickets, ticket{tk.ID, msgs[len(msgs)-1].Code()})
		}
		statuses := make(chan int, 3*len(tickets))
		var wg sync.WaitGroup
		for _, tk := range tickets {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses <- b.do(t, "POST", "/v1/self/requests/"+tk.id+"/verify", "", `{"code":"`+wrong(tk.code)+`"}`,
						"X-Forwarded-For", guesser).status
				}()
			}
		}
		wg.Wait()
		close(statuses)
		checked := 0
		for s := range statuses {
			switch s {
			case http.StatusTooManyRequests:
			case http.StatusUnprocessableEntity, http.StatusForbidden:
				checked++
			default:
				t.Errorf("a wrong code answered %d", s)
			}
		}
		if checked > limits.FailuresPerIP {
			t.Errorf("%d wrong codes sent at once were checked; the client's limit is %d", checked, limits.FailuresPerIP)
		}
	})
}
