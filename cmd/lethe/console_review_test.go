package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// consoleFile files a request of typ for email on the console's form,
// confirming an erasure's plan, and returns the request page's URL.
func consoleFile(t *testing.T, ctx context.Context, s *demoServer, typ, email string) string {
	t.Helper()
	step(t, ctx, "fill in a new "+typ+" request",
		chromedp.Navigate(s.base+"/console/requests/new"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.Click(chromedp.ID("type-"+typ)),
		chromedp.Click(chromedp.ID("file")))
	if typ == "erasure" {
		step(t, ctx, "confirm the plan", chromedp.WaitVisible(chromedp.ID("plan")), chromedp.Click(chromedp.ID("confirm")))
	}
	step(t, ctx, "wait for the request page", chromedp.WaitVisible(chromedp.ID("timeline")))
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(u, "?", 2)[0]
}

// consoleReview is the review gate and the registry's pages in the
// console, for the signed-in owner of Career Coach: with approval
// required, an erasure waits with its plan and shows on the overview; it
// is approved and completes; an access request is denied with a reason
// the page shows; the data map and the records of processing render, and
// the records download as CSV.
func consoleReview(t *testing.T, ctx context.Context, s *demoServer, shots string) {
	t.Helper()
	step(t, ctx, "require approval in the settings",
		chromedp.Navigate(s.base+"/console/settings"),
		chromedp.Click(chromedp.ID("approve-erasure")),
		chromedp.Click(chromedp.ID("approve-access")),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	var settings struct {
		Approval struct{ Erasure, Access bool }
	}
	if code := s.call(t, "GET", "/v1/tenants/career-coach/settings", "", &settings); code != http.StatusOK || !settings.Approval.Erasure || !settings.Approval.Access {
		t.Fatalf("settings after the console's approval switches: %d %+v", code, settings)
	}
	step(t, ctx, "open the overview", chromedp.Navigate(s.base+"/console"), chromedp.WaitVisible(chromedp.ID("switches")))
	if sw := text(t, ctx, "switches"); !strings.Contains(sw, "Approval before running: erasures and access requests") {
		t.Fatalf("the overview's switches after saving: %q", sw)
	}
	defer s.call(t, "PUT", "/v1/tenants/career-coach/settings", `{"approval":{"erasure":false,"access":false}}`, nil)

	held := consoleFile(t, ctx, s, "erasure", "ada@example.com")
	if st := text(t, ctx, "status"); !strings.Contains(st, "awaiting_approval") || !strings.Contains(text(t, ctx, "held-plan"), "app.chats") {
		t.Fatalf("a gated erasure shows status %q and plan %q", st, text(t, ctx, "held-plan"))
	}
	screenshot(t, ctx, shots, "console-review-1-held.png")
	id := held[strings.LastIndexByte(held, '/')+1:]
	step(t, ctx, "open the overview", chromedp.Navigate(s.base+"/console"), chromedp.WaitVisible(chromedp.ID("waiting")))
	if w := text(t, ctx, "waiting"); !strings.Contains(w, id) || !strings.Contains(w, "days left") {
		t.Fatalf("the overview's waiting requests: %q; want %s with its deadline", w, id)
	}
	screenshot(t, ctx, shots, "console-review-2-overview.png")
	step(t, ctx, "approve it", chromedp.Navigate(held), chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("notice")))
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(text(t, ctx, "status"), "completed"); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the approved erasure did not complete:\n%s", text(t, ctx, "main"))
		}
		step(t, ctx, "reload the request", chromedp.Navigate(held), chromedp.WaitVisible(chromedp.ID("status")))
	}

	denied := consoleFile(t, ctx, s, "access", "ada@example.com")
	const reason = "The studio holds no account for this address any more"
	step(t, ctx, "deny it with a reason",
		chromedp.SendKeys(chromedp.ID("deny-reason"), reason),
		chromedp.Click(chromedp.ID("deny")),
		chromedp.WaitVisible(chromedp.ID("ended-why"))) // the page before shows a notice too
	if st, main := text(t, ctx, "status"), text(t, ctx, "main"); !strings.Contains(st, "denied") || !strings.Contains(main, reason) {
		t.Fatalf("after the denial %s shows status %q:\n%s", denied, st, main)
	}
	screenshot(t, ctx, shots, "console-review-3-denied.png")

	// A waiting request cancelled: a reason is required, and shown.
	cancelled := consoleFile(t, ctx, s, "access", "grace@example.com")
	// The browser itself asks for the required field; the server must too.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("cancel-reason").removeAttribute("required"); true`)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "cancel without a reason",
		chromedp.Click(chromedp.ID("cancel-confirm")),
		chromedp.Click(chromedp.ID("cancel")),
		chromedp.WaitVisible(chromedp.ID("error")))
	if e := text(t, ctx, "error"); !strings.Contains(e, "say why the request is cancelled") {
		t.Fatalf("cancelling without a reason: %q", e)
	}
	const why = "The person withdrew it by phone"
	step(t, ctx, "cancel with a reason",
		chromedp.Navigate(cancelled),
		chromedp.SendKeys(chromedp.ID("cancel-reason"), why),
		chromedp.Click(chromedp.ID("cancel-confirm")),
		chromedp.Click(chromedp.ID("cancel")),
		chromedp.WaitVisible(chromedp.ID("ended-why")))
	if st, e := text(t, ctx, "status"), text(t, ctx, "ended-why"); !strings.Contains(st, "cancelled") || !strings.Contains(e, why) {
		t.Fatalf("after the cancellation: status %q, reason %q", st, e)
	}
	screenshot(t, ctx, shots, "console-review-4-cancelled.png")

	step(t, ctx, "open the data map", chromedp.Navigate(s.base+"/console/datamap"), chromedp.WaitVisible(chromedp.CSS("#datamap svg")))
	if list := text(t, ctx, "datamap-list"); !strings.Contains(list, "app.messages.chat_id → app.chats.id") {
		t.Fatalf("the data map's list: %q", list)
	}
	screenshot(t, ctx, shots, "console-datamap.png")
	step(t, ctx, "open the data map on a phone", chromedp.EmulateViewport(390, 800), chromedp.Navigate(s.base+"/console/datamap"),
		chromedp.WaitVisible(chromedp.CSS("#datamap svg")))
	fitsPhone(t, ctx, "#datamap svg")
	if listFirst, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("datamap-list").getBoundingClientRect().top < document.querySelector("#datamap svg").getBoundingClientRect().top`)); err != nil || !listFirst {
		t.Errorf("on a phone the data map's list should come before the picture (%v)", err)
	}
	screenshot(t, ctx, shots, "console-datamap-phone.png")
	step(t, ctx, "widen the window again", chromedp.EmulateViewport(900, 700))
	step(t, ctx, "open the records of processing", chromedp.Navigate(s.base+"/console/records"), chromedp.WaitVisible(chromedp.ID("records")))
	if r := text(t, ctx, "records"); !strings.Contains(r, "Purpose: newsletter") || !strings.Contains(r, "end users of the studios") {
		t.Fatalf("the records: %q", r)
	}
	screenshot(t, ctx, shots, "console-records.png")
	if csv := consoleGet(t, ctx, s.base+"/console/records.csv"); !strings.HasPrefix(csv, "purpose,description,") || !strings.Contains(csv, "app.newsletter") {
		t.Errorf("records.csv: %q", csv)
	}
}

// fitsPhone fails unless the page needs no sideways scrolling and the
// element sel ends within the window.
func fitsPhone(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	type fit struct{ Page, Window, Right float64 }
	got, err := chromedp.Run(ctx, chromedp.Evaluate[fit](`({Page: document.documentElement.scrollWidth, Window: window.innerWidth,
		Right: document.querySelector(`+"`"+sel+"`"+`).getBoundingClientRect().right})`))
	if err != nil {
		t.Fatalf("browser: measure %s: %v", sel, err)
	}
	if got.Page > got.Window || got.Right > got.Window {
		t.Errorf("on a phone the page is %.0f px wide and %s ends at %.0f px, in a window of %.0f px", got.Page, sel, got.Right, got.Window)
	}
}

// consoleGet fetches url with the browser's session cookie.
func consoleGet(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", url, nil)
	for _, c := range got.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return string(b)
}
