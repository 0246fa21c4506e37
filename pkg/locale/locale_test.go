package locale

import (
	"strings"
	"testing"
	"time"
)

// TestEveryLanguageHasEveryMessage: a message missing from a translation
// (or one the English file does not have) fails here, naming it.
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	b := Shipped()
	if len(b.Languages()) < 2 {
		t.Fatalf("languages: %v", b.Languages())
	}
	for lang, gaps := range b.Missing() {
		t.Errorf("translations/%s.yaml: missing (or extra, with +): %s", lang, strings.Join(gaps, ", "))
	}
	for _, lang := range b.Languages() {
		p := b.Printer(lang)
		for _, id := range b.IDs() {
			if s := p.T(id, "Count", "1"); strings.Contains(s, "⟦") {
				t.Errorf("%s: %s: %s", lang, id, s)
			}
		}
	}
}

// TestChoose: the person's own choice, then the browser, then the studio.
func TestChoose(t *testing.T) {
	b := Shipped()
	for _, c := range []struct{ name, chosen, accept, studio, want string }{
		{"nothing known", "", "", "", "en"},
		{"browser", "", "de-DE,de;q=0.9,en;q=0.5", "", "de"},
		{"browser beats studio", "", "en-GB", "de", "en"},
		{"studio when the browser asks for none Lethe has", "", "ja", "de", "de"},
		{"choice beats everything", "en", "de", "de", "en"},
		{"unknown choice ignored", "xx", "de", "", "de"},
	} {
		if got := b.Choose(c.chosen, c.accept, c.studio); got != c.want {
			t.Errorf("%s: Choose(%q, %q, %q) = %q, want %q", c.name, c.chosen, c.accept, c.studio, got, c.want)
		}
	}
}

// TestFormats: plural forms, numbers and dates per language, and the
// marker of a message no file has.
func TestFormats(t *testing.T) {
	en, de := Shipped().Printer("en"), Shipped().Printer("de")
	day := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{en.N("error.code_wrong", 2), "That code is not right. You can try 2 more times."},
		{en.N("error.code_wrong", 1), "That code is not right. You can try 1 more time."},
		{en.Number(1234567), "1,234,567"},
		{de.Number(1234567), "1.234.567"},
		{en.Date(day), "2 March 2026"},
		{de.Date(day), "2. März 2026"},
		{de.DateTime(day), "2. März 2026, 14:05 Uhr UTC"},
		{en.T("no.such.message"), "⟦no.such.message⟧"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
