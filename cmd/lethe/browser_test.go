package main

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
)

// chromiumPath is the browser the test drives: Debian's chromium, which
// .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium with a fresh profile. Without it
// the test fails under CI (which installs it) and is skipped elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("LETHE_TEST_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is missing: .ci/run installs it with apt-get install chromium chromium-driver", chromiumPath)
		}
		t.Skipf("%s is missing: apt-get install chromium chromium-driver", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 700),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser for the life of ctx: without a
	// timeout, which would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// step runs actions with a time limit, failing t with what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("browser: %s: %v; the page shows:\n%s", what, err, html)
	}
}

// screenshot saves the page as a PNG in a folder that outlives the test
// (LETHE_TEST_SCREENSHOTS, or a new one under the system's temporary
// folder) and logs where.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// screenshotDir is where screenshots are kept: LETHE_TEST_SCREENSHOTS
// (made if missing), or
// a new folder under the system's temporary folder, which outlives the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("LETHE_TEST_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "lethe-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserSelfService drives the end user's whole flow in headless
// Chromium against lethe serve --demo, as a person would: the page, the
// code read from the mailbox, the confirmation, the emailed link, and the
// ZIP it downloads.
func TestBrowserSelfService(t *testing.T) {
	ctx := newBrowser(t)
	smtp := mailtest.Start(t)
	s := startDemo(t, "--smtp-url", smtp.URL())
	shots := screenshotDir(t)
	const email = "grace@example.com" // a demo user of the career-coach studio

	step(t, ctx, "open the page",
		chromedp.Navigate(s.base+"/privacy/career-coach"),
		chromedp.WaitVisible(chromedp.ID("email")))
	step(t, ctx, "ask for my data",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.Click(chromedp.ID("type-access")))
	screenshot(t, ctx, shots, "privacy-1-ask.png")
	step(t, ctx, "send the form",
		chromedp.Click(chromedp.ID("ask")),
		chromedp.WaitVisible(chromedp.ID("code")))

	code := smtp.Wait(t, email, "Your privacy request code", 10*time.Second).Code()
	step(t, ctx, "enter the code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("done")))
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("done")))
	if err != nil || !strings.Contains(done, "your request is confirmed") {
		t.Fatalf("after the code the page says %q (%v)", done, err)
	}
	screenshot(t, ctx, shots, "privacy-2-done.png")

	link := smtp.Wait(t, email, "ready to download", 60*time.Second).Link()
	if !strings.HasPrefix(link, s.base+"/v1/self/exports/") {
		t.Fatalf("link %q is not on %s", link, s.base)
	}
	// The browser downloads the package from the link, as the person would.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	ectx, ecancel := context.WithTimeout(ctx, 60*time.Second)
	defer ecancel()
	progress := chromedp.BrowserEvents(ectx, browser.DownloadProgress)
	// Navigating to an attachment ends in net::ERR_ABORTED: the page stays.
	nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(nctx, chromedp.Navigate(link)); err != nil && !strings.Contains(err.Error(), "ERR_ABORTED") {
		t.Fatalf("browser: open the link: %v", err)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("browser: download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		} else if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("browser: the download was cancelled")
		}
	}
	z, err := zip.OpenReader(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatalf("the downloaded package is not a ZIP: %v", err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "manifest.json") || !strings.Contains(strings.Join(names, " "), "report.html") {
		t.Errorf("package entries: %v", names)
	}
}

func ptr[T any](v T) *T { return &v }
