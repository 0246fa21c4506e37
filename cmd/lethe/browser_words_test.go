package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lethe-privacy/lethe/pkg/mail/mailtest"
)

// wordsCase is one language's run through the page, the mails and the
// report, with what each must say.
type wordsCase struct {
	lang, email, wrongCode string
	ask, code, done        []string
	codeMail, readyMail    []string // subject first
	report                 []string
	date                   *regexp.Regexp // a date as the language writes it
}

var wordsCases = []wordsCase{
	{
		lang: "en", email: "grace@example.com",
		ask: []string{"Your data at Career Coach", "Download my data", "What happens next: we email you a six-digit code",
			"Career Coach Ltd is responsible for your data at Career Coach (the controller).", "privacy@career-coach.example.com"},
		code:      []string{"It works for 10 minutes.", "once the code is right, we start on your request"},
		wrongCode: "That code is not right. You can try 2 more times.",
		done:      []string{"your request is confirmed", "we email you a link to download it. The link works for 7 days."},
		codeMail:  []string{"Your privacy request code", "Someone, hopefully you, asked Career Coach for a copy", "Your code is:", "Career Coach Ltd is responsible"},
		readyMail: []string{"Your data is ready to download", "Download my data", "The link works until", "Open report.html"},
		report: []string{"Your personal data at Career Coach", "Who holds your data", "Career Coach Ltd", "Your conversations",
			"Interview prep: compiler engineering lead", "You", "Team growth. I've always just fixed things myself.",
			"Files you uploaded", "Compiler_Lead_Job_Description.txt", "What the law lets you know", "Run the studios and their chats",
			"Deleted 30 days after it was recorded.", "Your rights", "supervisory authority", "/privacy/career-coach"},
		date: regexp.MustCompile(`\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}, \d{2}:\d{2} UTC`),
	},
	{
		lang: "de", email: "ada@example.com",
		ask: []string{"Ihre Daten bei Career Coach", "Meine Daten herunterladen", "Wie es weitergeht: Wir schicken Ihnen einen sechsstelligen Code",
			"Career Coach Ltd ist für Ihre Daten bei Career Coach verantwortlich (Verantwortlicher)."},
		code:      []string{"Er gilt 10 Minuten.", "Sobald der Code stimmt"},
		wrongCode: "Dieser Code stimmt nicht. Sie können es noch 2 Mal versuchen.",
		done:      []string{"Ihre Anfrage ist bestätigt", "schicken wir Ihnen einen Link zum Herunterladen. Der Link gilt 7 Tage."},
		codeMail:  []string{"Ihr Code für Ihre Datenschutz-Anfrage", "Jemand, hoffentlich Sie, hat bei Career Coach eine Kopie", "Ihr Code lautet:"},
		readyMail: []string{"Ihre Daten stehen zum Herunterladen bereit", "Meine Daten herunterladen", "Der Link gilt bis"},
		report: []string{"Ihre personenbezogenen Daten bei Career Coach", "Wer Ihre Daten hat", "Ihre Unterhaltungen",
			"Review my CV for a data science role", "Sie", "Von Ihnen hochgeladene Dateien", "Ada_Lovelace_CV.txt",
			"Was Sie laut Gesetz erfahren dürfen", "Gelöscht 30 Tage nach der Aufzeichnung.", "Ihre Rechte", "Aufsichtsbehörde"},
		date: regexp.MustCompile(`\b\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}, \d{2}:\d{2} Uhr UTC`),
	},
}

// TestBrowserWords renders, in English and in German, the privacy page at
// each step, both self-service mails and report.html in headless Chromium,
// as a person sees them: each says what it must in that language, with
// no message missing from the translation, and passes axe-core with no
// violation. The German run reaches its language through the page's
// language switch. Screenshots are kept (see screenshotDir).
func TestBrowserWords(t *testing.T) {
	ctx := newBrowser(t)
	smtp := mailtest.Start(t)
	s := startDemo(t, "--smtp-url", smtp.URL())
	shots := screenshotDir(t)
	for _, c := range wordsCases {
		t.Run(c.lang, func(t *testing.T) { wordsRun(t, ctx, s.base, smtp, shots, c) })
	}

	step(t, ctx, "open an unknown studio", chromedp.Navigate(s.base+"/privacy/no-such-studio"), chromedp.WaitVisible(chromedp.CSS("main")))
	checkText(t, ctx, "unknown studio", "We do not know this studio", "Choose your studio", "Career Coach", "Calm Mind")
	checkAccessible(t, ctx, "unknown studio")
	screenshot(t, ctx, shots, "words-unknown-studio.png")
	if code := statusOf(t, s.base+"/privacy/no-such-studio"); code != http.StatusNotFound {
		t.Errorf("unknown studio: %d, want 404", code)
	}
	step(t, ctx, "open /privacy", chromedp.Navigate(s.base+"/privacy"), chromedp.WaitVisible(chromedp.ID("email")))
	checkText(t, ctx, "/privacy", "Choose your studio", "Career Coach", "Calm Mind", "Or ask every studio at once")
	checkAccessible(t, ctx, "/privacy")
}

// wordsRun is one language's run.
func wordsRun(t *testing.T, ctx context.Context, base string, smtp *mailtest.Server, shots string, c wordsCase) {
	name := func(n string) string { return "words-" + c.lang + "-" + n + ".png" }
	step(t, ctx, "open the page", chromedp.Navigate(base+"/privacy/career-coach"), chromedp.WaitVisible(chromedp.ID("email")))
	if c.lang != "en" {
		step(t, ctx, "switch the language", chromedp.Click(chromedp.CSS(`a[hreflang="`+c.lang+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="`+c.lang+`"] #email`)))
	}
	checkText(t, ctx, "ask", c.ask...)
	checkAccessible(t, ctx, "ask")
	step(t, ctx, "ask for my data", chromedp.SendKeys(chromedp.ID("email"), c.email), chromedp.Click(chromedp.ID("type-access")))
	screenshot(t, ctx, shots, name("1-ask"))
	step(t, ctx, "send the form", chromedp.Click(chromedp.ID("ask")), chromedp.WaitVisible(chromedp.ID("code")))
	checkText(t, ctx, "code", c.code...)
	checkAccessible(t, ctx, "code")

	codeMail := smtp.Wait(t, c.email, c.codeMail[0], 10*time.Second)
	code := codeMail.Code()
	step(t, ctx, "enter a wrong code", chromedp.SendKeys(chromedp.ID("code"), wrongOf(code)), chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("error")))
	checkText(t, ctx, "wrong code", c.wrongCode)
	checkAccessible(t, ctx, "wrong code")
	screenshot(t, ctx, shots, name("2-wrong-code"))
	step(t, ctx, "enter the code", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Click(chromedp.ID("verify")),
		chromedp.WaitVisible(chromedp.ID("done")))
	checkText(t, ctx, "done", c.done...)
	checkAccessible(t, ctx, "done")
	screenshot(t, ctx, shots, name("3-done"))

	showMail(t, ctx, codeMail, "code mail", c.codeMail[1:])
	screenshot(t, ctx, shots, name("4-mail-code"))
	ready := smtp.Wait(t, c.email, c.readyMail[0], 60*time.Second)
	showMail(t, ctx, ready, "ready mail", c.readyMail[1:])
	screenshot(t, ctx, shots, name("5-mail-ready"))

	dir := unpack(t, ready.Link())
	step(t, ctx, "open report.html", chromedp.Navigate("file://"+filepath.Join(dir, "report.html")), chromedp.WaitVisible(chromedp.CSS("main")))
	checkText(t, ctx, "report.html", c.report...)
	if text := pageText(t, ctx); !c.date.MatchString(text) {
		t.Errorf("report.html: no date written as %s writes it (%s)", c.lang, c.date)
	}
	checkAccessible(t, ctx, "report.html")
	screenshot(t, ctx, shots, name("6-report"))
}

// showMail opens the HTML of a mail in the browser and checks it, and its
// text twin.
func showMail(t *testing.T, ctx context.Context, m mailtest.Message, what string, want []string) {
	t.Helper()
	if m.HTML == "" || m.Body == "" {
		t.Fatalf("%s: HTML %d bytes, text %d bytes: want both", what, len(m.HTML), len(m.Body))
	}
	path := filepath.Join(t.TempDir(), "mail.html")
	if err := os.WriteFile(path, []byte(m.HTML), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the "+what, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("main")))
	checkText(t, ctx, what, want...)
	checkAccessible(t, ctx, what)
	for _, w := range want {
		if !strings.Contains(m.Body, w) && !strings.Contains(w, "Download") && !strings.Contains(w, "herunterladen") {
			t.Errorf("%s: the text part lacks %q", what, w)
		}
	}
}

// checkText fails t unless the page's visible text holds every want, and
// no missing translation (⟦id⟧) or empty template value.
func checkText(t *testing.T, ctx context.Context, what string, want ...string) {
	t.Helper()
	text := pageText(t, ctx)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: the page lacks %q; it says:\n%s", what, w, text)
		}
	}
	for _, bad := range []string{"⟦", "<no value>", "%!"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s: the page shows %q:\n%s", what, bad, text)
		}
	}
}

func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.innerText`))
	if err != nil {
		t.Fatalf("browser: read the page: %v", err)
	}
	return text
}

// unpack downloads the package at link and unpacks it into a new folder.
func unpack(t *testing.T, link string) string {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("download %s: %d %v", link, res.StatusCode, err)
	}
	dir := t.TempDir()
	for _, f := range z.File {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(path, dir+string(os.PathSeparator)) {
			t.Fatalf("package entry %q leaves the folder", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// wrongOf returns a six-digit code that is not code.
func wrongOf(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
