package main

import (
	"context"
	_ "embed"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (testdata/axe), the accessibility engine run
// against each page a person sees.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one rule a page breaks, as axe reports it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun is what the page runs: every WCAG 2.x A and AA rule and axe's
// best practices, violations only.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
  resultTypes: ["violations"]}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
  nodes: v.nodes.map(n => n.target.join(" "))})))`

// checkAccessible runs axe-core on the current page and fails t with
// every violation it finds.
func checkAccessible(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	for _, v := range axeViolations(t, ctx, what) {
		t.Errorf("axe: %s: %s (%s): %s at %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
	}
}

// axeViolations runs axe-core on the current page. The page's own CSP
// forbids scripts, so it is bypassed, as for any DevTools script.
func axeViolations(t *testing.T, ctx context.Context, what string) []axeViolation {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(actx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("axe: %s: bypass CSP: %v", what, err)
	}
	if _, err := chromedp.Run(actx, chromedp.Evaluate[bool](axeSource+"\n;true")); err != nil {
		t.Fatalf("axe: %s: load: %v", what, err)
	}
	found, err := chromedp.Run(actx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: %s: run: %v", what, err)
	}
	return found
}

// TestAxeFindsViolations: the check the pages pass can fail. A page
// without a language, with an image without text, an unlabelled field
// and grey on white text gets each reported.
func TestAxeFindsViolations(t *testing.T) {
	ctx := newBrowser(t)
	path := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!doctype html><html><head><title>x</title></head><body><main><h1>x</h1><img src="x.png">` +
		`<input type="text"><p style="color:#bbb;background:#fff">faint</p></main></body></html>`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the bad page", chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("main")))
	found := map[string]bool{}
	for _, v := range axeViolations(t, ctx, "bad page") {
		found[v.ID] = true
	}
	for _, id := range []string{"html-has-lang", "image-alt", "label", "color-contrast"} {
		if !found[id] {
			t.Errorf("axe did not report %s (reported %v)", id, found)
		}
	}
}
