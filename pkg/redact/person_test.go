package redact

import (
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
	if got := strings.Join(p.Needles(), ","); got != "lovelace,ada@example.com,0958" {
		t.Errorf("Needles = %s", got)
	}
}

func TestSubjectExcerpt(t *testing.T) {
	r, err := NewRedactor([]byte("0123456789abcdef0123"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	p := NewSubject([]string{"Ada Lovelace"}, nil, nil)
	text := "I start Monday. My manager Ada Lovelace said to mail grace@example.com or call +1 202 555 0142! Thanks."
	ms := p.Find(text)
	if len(ms) != 1 {
		t.Fatalf("Find = %v", ms)
	}
	got := p.Excerpt(r, text, ms[0])
	want := "My manager Ada Lovelace said to mail " + r.Pseudonym(Email, "grace@example.com") + " or call " + r.Pseudonym(Phone, "+1 202 555 0142") + "!"
	if got != want {
		t.Errorf("Excerpt = %q, want %q", got, want)
	}
}

func TestSubjectExcerptKeepsInitials(t *testing.T) {
	r, err := NewRedactor([]byte("0123456789abcdef0123"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	p := NewSubject([]string{"Ada Lovelace"}, nil, nil)
	text := "Hello. Ask A. Lovelace first. Then stop."
	ms := p.Find(text)
	if len(ms) != 1 {
		t.Fatalf("Find = %v", ms)
	}
	if got := p.Excerpt(r, text, ms[0]); got != "Ask A. Lovelace first." {
		t.Errorf("Excerpt = %q", got)
	}
}
