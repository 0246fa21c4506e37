package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

var consoleLinkRE = regexp.MustCompile(`http://\S+/console/signin/[A-Za-z0-9_-]+`)

// consoleSignIn signs owner in at /console by the link the console emails.
func consoleSignIn(t *testing.T, ctx context.Context, s *demoServer, smtp *mailtest.Server, owner string) {
	t.Helper()
	before := len(smtp.Messages())
	step(t, ctx, "ask for a sign-in link",
		chromedp.Navigate(s.base+"/console"),
		chromedp.SendKeys(chromedp.ID("email"), owner),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	var link string
	testkit.Eventually(t, 20*time.Second, "a sign-in link mailed to "+owner, func() error {
		for _, m := range smtp.Messages()[before:] {
			if len(m.To) == 1 && m.To[0] == owner {
				link = consoleLinkRE.FindString(m.Body)
			}
		}
		if link == "" {
			return errors.New("none yet")
		}
		return nil
	})
	step(t, ctx, "open the emailed link and sign in",
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.ID("signout")))
}

// text reads the text of the element with id.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("browser: read #%s: %v", id, err)
	}
	return out
}

// status opens path and returns the HTTP status the browser got.
func status(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("browser: open %s: %v", url, err)
	}
	return res.Status
}

// TestBrowserConsole drives the owners' console in headless Chromium
// against lethe serve --demo: an owner signs in by the emailed link, files
// an erasure, confirms its plan, follows it to completed and opens its
// certificate; changes settings that the policy then shows; sees the
// retention chart; another studio's owner sees none of it; the admin
// signs in with the token; a gated request is approved and another
// denied, and the data map and the Art. 30 records render
// (consoleReview). Every page is kept as a screenshot.
func TestBrowserConsole(t *testing.T) {
	ctx := newBrowser(t)
	smtp := mailtest.Start(t)
	s := startDemo(t, "--smtp-url", smtp.URL())
	shots := screenshotDir(t)
	const owner, other = "owner@career-coach.example.com", "owner@calm-mind.example.com"

	step(t, ctx, "open the console", chromedp.Navigate(s.base+"/console"), chromedp.WaitVisible(chromedp.ID("email")))
	screenshot(t, ctx, shots, "console-1-signin.png")
	consoleSignIn(t, ctx, s, smtp, owner)
	if h := text(t, ctx, "main"); !strings.Contains(text(t, ctx, "main"), "Overview") || !strings.Contains(h, "Your studio's switches") {
		t.Fatalf("after sign-in the page shows:\n%s", h)
	}

	// An erasure: the plan first, then the confirmation.
	step(t, ctx, "fill in a new erasure",
		chromedp.Navigate(s.base+"/console/requests/new"),
		chromedp.SendKeys(chromedp.ID("email"), "grace@example.com"),
		chromedp.Click(chromedp.ID("type-erasure")),
		chromedp.Click(chromedp.ID("file")),
		chromedp.WaitVisible(chromedp.ID("plan")))
	if n, _ := strconv.Atoi(text(t, ctx, "plan-total")); n == 0 {
		t.Fatalf("the plan touches nothing:\n%s", text(t, ctx, "main"))
	}
	if studio := text(t, ctx, "plan-studio"); studio != "Career Coach" {
		t.Fatalf("the plan names the studio %q; want its display name", studio)
	}
	screenshot(t, ctx, shots, "console-2-plan.png")
	step(t, ctx, "confirm the plan", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("timeline")))
	requestURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(requestURL, "/console/requests/") {
		t.Fatalf("after confirming: %q (%v)", requestURL, err)
	}
	requestURL = strings.SplitN(requestURL, "?", 2)[0]
	id := requestURL[strings.LastIndexByte(requestURL, '/')+1:]
	testkit.Eventually(t, 90*time.Second, "the erasure completed", func() error {
		step(t, ctx, "reload the request", chromedp.Navigate(requestURL), chromedp.WaitVisible(chromedp.ID("status")))
		if st := text(t, ctx, "status"); !strings.Contains(st, "completed") {
			return fmt.Errorf("status %s", st)
		}
		return nil
	})
	if v := text(t, ctx, "verification"); !strings.Contains(v, "passed") {
		t.Fatalf("verification: %q", v)
	}
	screenshot(t, ctx, shots, "console-3-request.png")
	step(t, ctx, "open the certificate", chromedp.Click(chromedp.ID("certificate")), chromedp.WaitVisible(chromedp.ID("proof")))
	if st := text(t, ctx, "cert-status"); st != "completed" || len(text(t, ctx, "proof")) != 64 {
		t.Fatalf("certificate: status %q, proof %q", st, text(t, ctx, "proof"))
	}
	screenshot(t, ctx, shots, "console-4-certificate.png")
	ownerDryRun(t, ctx, s, shots)
	consoleReview(t, ctx, s, shots)

	// Settings, as the application reads them in the policy.
	step(t, ctx, "shorten a window and obfuscate history",
		chromedp.Navigate(s.base+"/console/settings"),
		chromedp.SendKeys(chromedp.CSS(`input[name="retention.app.chats"]`), "10d"),
		chromedp.Click(chromedp.ID("obfuscate")),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	screenshot(t, ctx, shots, "console-5-settings.png")
	var policy struct {
		ObfuscateHistory bool `json:"obfuscate_history"`
		Collections      []struct {
			Collection, Window, Source string
		} `json:"collections"`
	}
	if code := s.call(t, "GET", "/v1/tenants/career-coach/policy", "", &policy); code != 200 || !policy.ObfuscateHistory {
		t.Fatalf("policy after the settings: %d %+v", code, policy)
	}
	for _, c := range policy.Collections {
		if c.Collection == "app.chats" && (c.Window != "10d" || c.Source != "tenant") {
			t.Fatalf("policy of app.chats: %+v, want the studio's 10d", c)
		}
	}
	step(t, ctx, "try a window longer than the registry's",
		chromedp.Navigate(s.base+"/console/settings"),
		chromedp.Clear(chromedp.CSS(`input[name="retention.app.uploads"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="retention.app.uploads"]`), "90d"),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.ID("error")))
	if e := text(t, ctx, "error"); !strings.Contains(e, "Retention window of app.uploads: 90d is longer than the registry's 1w; your studio may only shorten a window") {
		t.Fatalf("a longer window: %q", e)
	}
	// A logo, shown in the header.
	logo := filepath.Join(t.TempDir(), "logo.png")
	writeLogo(t, logo)
	step(t, ctx, "upload a logo",
		chromedp.Navigate(s.base+"/console/studio"),
		chromedp.SetUploadFiles(chromedp.ID("logo"), []string{logo}),
		chromedp.Click(chromedp.ID("upload-logo")),
		chromedp.WaitVisible(chromedp.ID("notice")),
		chromedp.WaitVisible(chromedp.CSS(`header img[src="/console/logo/career-coach"]`)))
	testkit.Eventually(t, 10*time.Second, "the header's logo loaded", func() error {
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("header img").naturalWidth`))
		if err == nil && w != 96 {
			err = fmt.Errorf("width %d", w)
		}
		return err
	})
	screenshot(t, ctx, shots, "console-studio.png")

	// A real sweep, then its chart.
	var run struct {
		ID, Status string
		Counts     []struct {
			Collection  string `json:"collection"`
			Tenant      string `json:"tenant"`
			RowsPurged  int64  `json:"rows_purged"`
			FilesPurged int64  `json:"files_purged"`
		} `json:"counts"`
	}
	if code := s.call(t, "POST", "/v1/retention/runs", `{}`, &run); code != 202 {
		t.Fatalf("POST /v1/retention/runs: %d", code)
	}
	testkit.Eventually(t, 60*time.Second, "the sweep completed", func() error {
		if s.call(t, "GET", "/v1/retention/runs/"+run.ID, "", &run); run.Status != "completed" {
			return fmt.Errorf("status %s", run.Status)
		}
		return nil
	})
	step(t, ctx, "open the retention page",
		chromedp.Navigate(s.base+"/console/retention"),
		chromedp.WaitVisible(chromedp.CSS("#chart rect.bar-rows")))
	screenshot(t, ctx, shots, "console-6-retention.png")
	// The owner sees what the sweep purged of Career Coach's rows only:
	// its chats, and the messages and uploads of its chats, which have no
	// studio column of their own but count under their chat's studio.
	var own, all, ownFiles, ownMessages int64
	for _, c := range run.Counts {
		all += c.RowsPurged
		if c.Tenant == "career-coach" {
			own += c.RowsPurged
			ownFiles += c.FilesPurged
			if c.Collection == "app.messages" {
				ownMessages += c.RowsPurged
			}
		}
		if c.Tenant == "" && c.RowsPurged+c.FilesPurged > 0 {
			t.Errorf("the sweep counted %s's rows under no studio: %+v", c.Collection, c)
		}
	}
	if own == all {
		t.Fatalf("the demo's sweep purged only Career Coach's rows (%+v); the test cannot tell", run.Counts)
	}
	if ownMessages == 0 || ownFiles == 0 {
		t.Fatalf("the sweep counted %d of Career Coach's messages and %d files; want those of its chats (%+v)", ownMessages, ownFiles, run.Counts)
	}
	if got := text(t, ctx, "rows-"+run.ID) + " rows, " + text(t, ctx, "files-"+run.ID) + " files"; got != fmt.Sprintf("%d rows, %d files", own, ownFiles) {
		t.Fatalf("the owner's retention page shows %s purged by the sweep; want the studio's %d rows (of %d), messages included, and %d files", got, own, all, ownFiles)
	}
	step(t, ctx, "open the overview", chromedp.Navigate(s.base+"/console"), chromedp.WaitVisible(chromedp.ID("switches")))
	if got := text(t, ctx, "rows-"+run.ID); got != strconv.FormatInt(own, 10) {
		t.Fatalf("the owner's overview shows %s rows purged by the sweep; want the studio's %d (of %d)", got, own, all)
	}
	screenshot(t, ctx, shots, "console-7-overview.png")
	step(t, ctx, "narrow the window to a phone's", chromedp.EmulateViewport(390, 800), chromedp.Navigate(s.base+"/console"),
		chromedp.WaitVisible(chromedp.ID("sweeps")))
	fitsPhone(t, ctx, "#sweeps")
	screenshot(t, ctx, shots, "console-8-phone.png")
	step(t, ctx, "widen the window again", chromedp.EmulateViewport(900, 700))
	step(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("email")))

	// Another studio's owner sees none of it.
	consoleSignIn(t, ctx, s, smtp, other)
	if main := text(t, ctx, "main"); strings.Contains(main, id) {
		t.Fatalf("another studio's overview shows request %s", id)
	}
	if code := status(t, ctx, requestURL); code != 404 {
		t.Fatalf("another studio's owner opened the request: %d", code)
	}
	if code := status(t, ctx, requestURL+"/certificate"); code != 404 {
		t.Fatalf("another studio's owner opened the certificate: %d", code)
	}
	step(t, ctx, "sign out", chromedp.Navigate(s.base+"/console"), chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("email")))

	// The admin, by the token.
	step(t, ctx, "sign in as the admin",
		chromedp.Navigate(s.base+"/console/admin/signin"),
		chromedp.SendKeys(chromedp.ID("token"), s.token),
		chromedp.Click(chromedp.ID("admin-signin")),
		chromedp.WaitVisible(chromedp.ID("signout")))
	step(t, ctx, "open the studios", chromedp.Navigate(s.base+"/console/studios"), chromedp.WaitVisible(chromedp.ID("studios")))
	screenshot(t, ctx, shots, "console-9-studios.png")
	step(t, ctx, "queue a dry run", chromedp.Navigate(s.base+"/console/retention"), chromedp.Click(chromedp.ID("dry-run")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	step(t, ctx, "open the audit trail", chromedp.Navigate(s.base+"/console/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
	if c := text(t, ctx, "audit-check"); !strings.Contains(c, "verified") {
		t.Fatalf("audit check: %q", c)
	}
	if trail := text(t, ctx, "audit"); !strings.Contains(trail, "owner:") || strings.Contains(trail, owner) {
		t.Fatalf("the trail should name owners by subject only:\n%s", trail)
	}
	screenshot(t, ctx, shots, "console-10-audit.png")
	step(t, ctx, "open the holds", chromedp.Navigate(s.base+"/console/holds"), chromedp.WaitVisible(chromedp.CSS("h1")))
	screenshot(t, ctx, shots, "console-11-holds.png")
}

var dryRunRE = regexp.MustCompile(`Dry run (\S+) queued`)

// ownerDryRun queues a dry run as Career Coach's owner while the studio
// keeps the application's windows (and Ada's chats are not yet erased): it
// counts the chats past the 30 days per studio, with their messages under
// their chat's studio, and the owner's retention page shows the studio's
// own count of them, not Calm Mind's.
func ownerDryRun(t *testing.T, ctx context.Context, s *demoServer, shots string) {
	t.Helper()
	step(t, ctx, "queue a dry run as the owner", chromedp.Navigate(s.base+"/console/retention"), chromedp.Click(chromedp.ID("dry-run")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	m := dryRunRE.FindStringSubmatch(text(t, ctx, "notice"))
	if m == nil {
		t.Fatalf("the dry run's notice names no run: %q", text(t, ctx, "notice"))
	}
	var dry struct {
		Status string
		Counts []struct {
			Collection, Tenant string
			RowsPurged         int64 `json:"rows_purged"`
		}
	}
	testkit.Eventually(t, 60*time.Second, "the dry run completed", func() error {
		if s.call(t, "GET", "/v1/retention/runs/"+m[1], "", &dry); dry.Status != "completed" {
			return fmt.Errorf("status %s", dry.Status)
		}
		return nil
	})
	var own, all int64
	chats, messages := map[string]int64{}, map[string]int64{}
	for _, c := range dry.Counts {
		all += c.RowsPurged
		if c.Tenant == "career-coach" {
			own += c.RowsPurged
		}
		switch c.Collection {
		case "app.chats":
			chats[c.Tenant] += c.RowsPurged
		case "app.messages":
			messages[c.Tenant] += c.RowsPurged
		}
	}
	if chats["career-coach"] == 0 || chats["calm-mind"] == 0 {
		t.Fatalf("the dry run did not count each studio's chats past the application's window: %+v", dry.Counts)
	}
	if messages["career-coach"] == 0 || messages[""] != 0 {
		t.Fatalf("the dry run did not count the messages of Career Coach's chats under the studio: %+v", dry.Counts)
	}
	step(t, ctx, "see the dry run's counts", chromedp.Navigate(s.base+"/console/retention"), chromedp.WaitVisible(chromedp.ID("rows-"+m[1])))
	if got := text(t, ctx, "rows-"+m[1]); got != strconv.FormatInt(own, 10) || own == all {
		t.Fatalf("the owner's retention page shows %s rows for the dry run; want the studio's %d (of %d)", got, own, all)
	}
	if runs := text(t, ctx, "runs"); !strings.Contains(runs, "dry run") || !strings.Contains(runs, "completed") {
		t.Fatalf("the owner's dry run is not listed as completed:\n%s", runs)
	}
	screenshot(t, ctx, shots, "console-retention-owner.png")
}

// writeLogo writes a small PNG.
func writeLogo(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for x := range 96 {
		for y := range 96 {
			img.Set(x, y, color.RGBA{R: uint8(31 + x), G: 111, B: uint8(235 - y), A: 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
