package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadInput sends input the API must refuse: each gets its exact status
// and the one error shape, and nothing is written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	big := `{"type":"erasure","email":"` + strings.Repeat("a", 70<<10) + `@example.com"}`
	under := `{"type":"erasure","email":"` + strings.Repeat("a", 65000) + `@example.com"}` // > 64000, < 65536 bytes
	type input struct {
		name         string
		method, path string
		body         string
		chunked      bool // send the body without a Content-Length
		hdr          []string
		status       int
		code         string
	}
	cases := []input{
		{name: "malformed JSON", method: "POST", path: "/v1/requests", body: `{"type":"erasure",`, status: 400, code: "invalid"},
		{name: "not an object", method: "POST", path: "/v1/requests", body: `["erasure"]`, status: 400, code: "invalid"},
		{name: "unknown field", method: "POST", path: "/v1/requests", body: `{"type":"erasure","email":"a@example.com","name":"A"}`, status: 400, code: "invalid"},
		{name: "field of the wrong type", method: "POST", path: "/v1/requests", body: `{"type":"erasure","email":42}`, status: 400, code: "invalid"},
		{name: "two objects", method: "POST", path: "/v1/requests", body: `{"type":"erasure","email":"a@example.com"}{}`, status: 400, code: "invalid"},
		{name: "no body", method: "POST", path: "/v1/requests", status: 400, code: "invalid"},
		{name: "not JSON", method: "POST", path: "/v1/requests", body: `type=erasure`, hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 400, code: "invalid"},
		{name: "body over 64 KiB", method: "POST", path: "/v1/requests", body: big, status: 413, code: "too_large"},
		{name: "chunked body over 64 KiB", method: "POST", path: "/v1/requests", body: big, chunked: true, status: 413, code: "too_large"},
		{name: "body just under 64 KiB", method: "POST", path: "/v1/requests", body: under, status: 422, code: "unprocessable"},
		{name: "unknown type", method: "POST", path: "/v1/requests", body: `{"type":"delete","email":"a@example.com"}`, status: 422, code: "unprocessable"},
		{name: "bad tenant", method: "POST", path: "/v1/requests", body: `{"type":"erasure","email":"a@example.com","tenant":"../x"}`, status: 422, code: "unprocessable"},
		{name: "tampered cursor", method: "GET", path: "/v1/requests?cursor=eyJ0IjoiMjAyNSJ9.00ff", status: 400, code: "invalid"},
		{name: "limit out of range", method: "GET", path: "/v1/requests?limit=0", status: 400, code: "invalid"},
		{name: "overdue not a boolean", method: "GET", path: "/v1/requests?overdue=yes", status: 400, code: "invalid"},
		{name: "unknown status", method: "GET", path: "/v1/requests?status=lost", status: 422, code: "unprocessable"},
		{name: "unknown request", method: "GET", path: "/v1/requests/0190f3a0-0000-7000-8000-000000000000", status: 404, code: "not_found"},
		{name: "cancel unknown request", method: "POST", path: "/v1/requests/0190f3a0-0000-7000-8000-000000000000/cancel", body: `{"reason":"no longer wanted"}`, status: 404, code: "not_found"},
		{name: "cancel what is not an id", method: "POST", path: "/v1/requests/nope/cancel", body: `{"reason":"no longer wanted"}`, status: 404, code: "not_found"},
		{name: "extend unknown request", method: "POST", path: "/v1/requests/0190f3a0-0000-7000-8000-000000000000/extend", body: `{"days":5,"reason":"x"}`, status: 404, code: "not_found"},
		{name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "not_found"},
	}
	// Addresses the API must refuse; "quinn.secret" must never be echoed.
	for _, email := range []string{
		"quinn.secret", "quinn.secret@", "@example.com", "quinn.secret@localhost", "quinn.secret@@example.com",
		"Quinn <quinn.secret@example.com>", "quinn.secret@example.com (Quinn)", "quinn.secret@example.com, r@example.com",
		"quinn.secret@example.com.", "quinn.secret@[127.0.0.1]", strings.Repeat("q", 250) + "quinn.secret@example.com", "   ",
	} {
		body, _ := json.Marshal(map[string]string{"type": "erasure", "email": email})
		cases = append(cases, input{name: "bad email " + email[:min(len(email), 40)], method: "POST", path: "/v1/requests",
			body: string(body), status: 422, code: "unprocessable"})
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		r := b.fileRequest(t, adminToken, "access", "rita@example.com", "studio-a")
		cases := append(slices.Clip(cases), // each dialect's own copy
			input{name: "extend past 60 days", method: "POST", path: "/v1/requests/" + r.ID + "/extend", body: `{"days":61,"reason":"archive"}`, status: 422, code: "unprocessable"},
			input{name: "extend without a reason", method: "POST", path: "/v1/requests/" + r.ID + "/extend", body: `{"days":10}`, status: 422, code: "unprocessable"},
			input{name: "extend by a fraction", method: "POST", path: "/v1/requests/" + r.ID + "/extend", body: `{"days":1.5,"reason":"x"}`, status: 400, code: "invalid"},
			input{name: "extend with an unknown field", method: "POST", path: "/v1/requests/" + r.ID + "/extend", body: `{"days":1,"reason":"x","until":"2030-01-01"}`, status: 400, code: "invalid"},
		)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := b.rows(t)
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
					if tc.chunked {
						body = io.MultiReader(body) // no known length: sent chunked
					}
				}
				hdr := append([]string{"Content-Type", "application/json"}, tc.hdr...)
				msg := wantError(t, b.call(t, tc.method, tc.path, adminToken, body, hdr...), tc.status, tc.code)
				if strings.Contains(strings.ToLower(msg), "quinn") {
					t.Errorf("the message repeats the email: %q", msg)
				}
				if after := b.rows(t); after != before {
					t.Errorf("rows (requests, audit, jobs) went from %v to %v", before, after)
				}
			})
		}
		got := decode[requestBody](t, b.do(t, "GET", "/v1/requests/"+r.ID, adminToken, ""), http.StatusOK)
		if got.ExtendedDays != 0 || !got.DueAt.Equal(r.DueAt) || got.Status != "pending" {
			t.Errorf("refused calls changed the request: %+v", got)
		}
	})
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		const body = `{"type":"erasure","email":"sam@example.com","tenant":"studio-a"}`
		first := b.do(t, "POST", "/v1/requests", adminToken, body, "Idempotency-Key", "order-42")
		r1 := decode[requestBody](t, first, http.StatusAccepted)
		if first.header.Get("Location") != "/v1/requests/"+r1.ID || first.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("first create headers: %v", first.header)
		}
		before := b.rows(t)
		again := b.do(t, "POST", "/v1/requests", adminToken, body, "Idempotency-Key", "order-42")
		r2 := decode[requestBody](t, again, http.StatusAccepted)
		if r2.ID != r1.ID || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay gave %s (replayed %q), want %s", r2.ID, again.header.Get("Idempotent-Replayed"), r1.ID)
		}
		if after := b.rows(t); after != before {
			t.Errorf("a replay wrote rows: %v → %v", before, after)
		}
		wantError(t, b.do(t, "POST", "/v1/requests", adminToken, `{"type":"access","email":"sam@example.com","tenant":"studio-a"}`,
			"Idempotency-Key", "order-42"), http.StatusConflict, "conflict")
		if after := b.rows(t); after != before {
			t.Errorf("a conflicting key wrote rows: %v → %v", before, after)
		}
		r3 := decode[requestBody](t, b.do(t, "POST", "/v1/requests", adminToken, body, "Idempotency-Key", "order-43"), http.StatusAccepted)
		if r3.ID == r1.ID {
			t.Error("another key gave the same request")
		}
	})
}

func TestCancelExtend(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		r := b.fileRequest(t, adminToken, "access", "tom@example.com", "studio-a")
		ext := decode[requestBody](t, b.do(t, "POST", "/v1/requests/"+r.ID+"/extend", adminToken, `{"days":60,"reason":"records in a paper archive"}`), http.StatusOK)
		if ext.ExtendedDays != 60 || !ext.DueAt.Equal(r.DueAt.Add(60*24*time.Hour)) {
			t.Errorf("extended request: %+v", ext)
		}
		wantError(t, b.do(t, "POST", "/v1/requests/"+r.ID+"/extend", adminToken, `{"days":1,"reason":"more"}`), 422, "unprocessable")

		c := decode[requestBody](t, b.do(t, "POST", "/v1/requests/"+r.ID+"/cancel", adminToken, `{"reason":"no longer wanted"}`), http.StatusOK)
		if c.Status != "cancelled" || c.Error == nil || c.Error.Code != "conflict" {
			t.Errorf("cancelled request: %+v", c)
		}
		wantError(t, b.do(t, "POST", "/v1/requests/"+r.ID+"/cancel", adminToken, `{"reason":"no longer wanted"}`), 409, "conflict")
		wantError(t, b.do(t, "POST", "/v1/requests/"+r.ID+"/extend", adminToken, `{"days":1,"reason":"late"}`), 409, "conflict")

		b.clock.Advance(31 * 24 * time.Hour)
		open := b.fileRequest(t, adminToken, "erasure", "tom@example.com", "")
		b.clock.Advance(31 * 24 * time.Hour)
		list := decode[listBody](t, b.do(t, "GET", "/v1/requests?overdue=true", adminToken, ""), http.StatusOK)
		if len(list.Items) != 1 || list.Items[0].ID != open.ID || !list.Items[0].Overdue {
			t.Errorf("overdue list: %+v, want only %s, marked overdue", list.Items, open.ID)
		}
	})
}

func TestListPages(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		want := map[string]bool{}
		for range 5 {
			want[b.fileRequest(t, adminToken, "erasure", "uma@example.com", "studio-a").ID] = true
			b.clock.Advance(time.Second)
		}
		seen := map[string]bool{}
		path := "/v1/requests?limit=2&tenant=studio-a"
		for pages := 1; ; pages++ {
			l := decode[listBody](t, b.do(t, "GET", path, adminToken, ""), http.StatusOK)
			for _, it := range l.Items {
				if seen[it.ID] || !want[it.ID] {
					t.Errorf("page %d: %s repeated or unknown", pages, it.ID)
				}
				seen[it.ID] = true
			}
			if l.NextCursor == nil {
				if pages != 3 {
					t.Errorf("%d pages, want 3", pages)
				}
				break
			}
			path = "/v1/requests?limit=2&tenant=studio-a&cursor=" + *l.NextCursor
		}
		if len(seen) != len(want) {
			t.Errorf("pages listed %d requests, want %d", len(seen), len(want))
		}
	})
}
