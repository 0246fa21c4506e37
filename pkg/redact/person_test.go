package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestSubjectFind(t *testing.T) {
	p := NewSubject([]string{"Ada Lovelace"}, []string{"Ada@Example.com"}, []string{"+442079460958"})
	for _, tc := range []struct {
		name, text string
		want       []string // the mentioned text, in order
	}{
		{"full name", "my manager Ada Lovelace said so", []string{"Ada Lovelace"}},
		{"case and accents", "ADA lovelacé and Ádá  Lovelace", []string{"ADA lovelacé", "Ádá  Lovelace"}},
		{"initial", "ask A. Lovelace about it", []string{"A. Lovelace"}},
		{"last, first", "Lovelace, Ada (analyst)", []string{"Lovelace, Ada"}},
		{"possessive", "Ada Lovelace's notes", []string{"Ada Lovelace"}},
		{"lone first name", "Ada said hello to Lovelace", nil},
		{"inside a word", "Ada Lovelacey is someone else", nil},
		{"email folded", "write to ADA@example.COM today", []string{"ADA@example.COM"}},
		{"another email", "write to grace@example.com", nil},
		{"phone e164", "call +44 20 7946 0958 now", []string{"+44 20 7946 0958"}},
		{"phone national", "call 020 7946 0958 now", []string{"020 7946 0958"}},
		{"phone 00", "call 0044 20 7946 0958 now", []string{"0044 20 7946 0958"}},
		{"another phone", "call +1 202 555 0142", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range p.Find(tc.text) {
				got = append(got, tc.text[m.Start:m.End])
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Find(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestSubjectReplace(t *testing.T) {
	r, err := NewRedactor([]byte("0123456789abcdef0123"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	p := NewSubject([]string{"Ada Lovelace"}, []string{"ada@example.com"}, []string{"+442079460958"})
	text := "Ada Lovelace (A. Lovelace; ada@example.com, 020 7946 0958) met Grace."
	out, n := p.Replace(text, r.PseudonymOf)
	name, email, phone := r.Pseudonym(Name, "Ada Lovelace"), r.Pseudonym(Email, "ada@example.com"), r.Pseudonym(Phone, "+442079460958")
	want := name + " (" + name + "; " + email + ", " + phone + ") met Grace."
	if out != want || n != 4 {
		t.Fatalf("Replace = %q, %d; want %q, 4", out, n, want)
	}
	if again, n := p.Replace(out, r.PseudonymOf); again != out || n != 0 {
		t.Errorf("a second Replace changed %q into %q", out, again)
	}
}

// TestSubjectNeedles: each text in which Find finds the person holds one
// of the needles, lower-cased; a person with a name or a phone number has
// none (every row is read).
func TestSubjectNeedles(t *testing.T) {
	p := NewSubject(nil, []string{"Ada.Lovelace@example.com", "al@example.org", "katherine.johnson@example.com"}, nil)
	if got := strings.Join(p.Needles(), ","); got != "lovelace,al,johnson" {
		t.Errorf("Needles = %s", got)
	}
	for _, text := range []string{"mail ada.lovelace@example.com", "ada.lovelace [at] example [dot] com",
		"ADA.LOVELACE(at)example.com", "al (at) example (dot) org", "\u212Aatherine.JOHNSON@example.com"} {
		if len(p.Find(text)) == 0 {
			t.Errorf("Find(%q) found nothing", text)
			continue
		}
		if !slices.ContainsFunc(p.Needles(), func(n string) bool { return strings.Contains(strings.ToLower(text), n) }) {
			t.Errorf("no needle in %q", text)
		}
	}
	for _, q := range []*Subject{
		NewSubject([]string{"José García"}, []string{"ada@example.com"}, nil),
		NewSubject(nil, []string{"ada@example.com"}, []string{"+33612345678"}),
		NewSubject(nil, []string{"josé@example.com"}, nil),
		NewSubject(nil, []string{"ian@example.com"}, nil), // "İAN@example.com" is the same address
	} {
		if n := q.Needles(); n != nil {
			t.Errorf("Needles = %q, want nil", n)
		}
	}
	for text, q := range map[string]*Subject{
		"Jose Garcia called":  NewSubject([]string{"José García"}, nil, nil),
		"ADA lovelacé called": NewSubject([]string{"Ada Lovelace"}, nil, nil),
		"call 06 12 34 56 78": NewSubject(nil, nil, []string{"+33612345678"}),
	} {
		if len(q.Find(text)) == 0 {
			t.Errorf("Find(%q) found nothing", text)
		}
	}
}

func TestSubjectExcerpt(t *testing.T) {
	r, got := excerptOfAda(t, "I start Monday. My manager Ada Lovelace said to mail grace@example.com or call +1 202 555 0142! Thanks.")
	want := "My manager Ada Lovelace said to mail " + r.Pseudonym(Email, "grace@example.com") + " or call " + r.Pseudonym(Phone, "+1 202 555 0142") + "!"
	if got != want {
		t.Errorf("Excerpt = %q, want %q", got, want)
	}
}

func TestSubjectExcerptKeepsInitials(t *testing.T) {
	if _, got := excerptOfAda(t, "Hello. Ask A. Lovelace first. Then stop."); got != "Ask A. Lovelace first." {
		t.Errorf("Excerpt = %q", got)
	}
}

// excerptOfAda finds the one mention of Ada Lovelace in text and returns
// its excerpt with the redactor that wrote it.
func excerptOfAda(t *testing.T, text string) (*Redactor, string) {
	t.Helper()
	r, err := NewRedactor([]byte("0123456789abcdef0123"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	p := NewSubject([]string{"Ada Lovelace"}, nil, nil)
	ms := p.Find(text)
	if len(ms) != 1 {
		t.Fatalf("Find = %v", ms)
	}
	return r, p.Excerpt(r, text, ms[0])
}
