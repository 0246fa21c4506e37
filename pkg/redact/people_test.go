package redact

import (
	"strings"
	"testing"
)

func TestPeopleFindsKnownNamesWithEvidence(t *testing.T) {
	p := NewPeople([]string{"Grace Hopper", "Ada Lovelace", "Will Turner", "José Álvarez"}, 0)
	r, err := NewRedactor([]byte("0123456789abcdef-people"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	r.SetPeople(p)
	grace := r.Pseudonym(Name, "Grace Hopper")
	for _, tc := range []struct{ text, want string }{
		{"Hi, I'm Grace Hopper from sales", "Hi, I'm " + grace + " from sales"},
		{"ask GRACE HOPPER", "ask " + grace},
		{"G. Hopper wrote it", grace + " wrote it"},
		{"I met Grace yesterday", "I met " + grace + " yesterday"},
		{"my name is grace", "my name is " + grace},
		{"Hopper will call", grace + " will call"},
		{"jose alvarez called", r.Pseudonym(Name, "José Álvarez") + " called"},
		{"Señor Álvarez llamó — dos veces", "Señor " + r.Pseudonym(Name, "José Álvarez") + " llamó — dos veces"},
		{"Grace-Hopper's notes", grace + "'s notes"},
		// Hard negatives: common words without evidence.
		{"by the grace of god", "by the grace of god"},
		{"Grace period ends", "Grace period ends"},
		{"I will do it", "I will do it"},
		{"Will you come? hope so", "Will you come? hope so"},
		{"the grain hopper is full", "the grain hopper is full"},
		{"Gracefully done", "Gracefully done"},
		// An address holding a name stays an address.
		{"mail grace.hopper@example.com", "mail " + r.Pseudonym(Email, "grace.hopper@example.com")},
	} {
		if got, _ := r.Redact(tc.text); got != tc.want {
			t.Errorf("Redact(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
	if got, _ := r.Redact("Thanks " + grace); strings.Count(got, "<name:") != 1 {
		t.Errorf("a pseudonym was redacted again: %q", got)
	}
	r.SetPeople(nil)
	if got, _ := r.Redact("I'm Grace Hopper"); got != "I'm Grace Hopper" {
		t.Errorf("without a dictionary: %q", got)
	}
}

func TestPeopleBounded(t *testing.T) {
	if n := NewPeople([]string{"A One", "B Two", "C Three", "a one"}, 2).Len(); n != 2 {
		t.Errorf("Len = %d; want 2 (bounded)", n)
	}
	if n := NewPeople([]string{"A One", "a  ONE", " "}, 0).Len(); n != 1 {
		t.Errorf("Len = %d; want duplicates and blanks skipped", n)
	}
}

// TestPeopleEvidenceRules: each rule that lets a lone common word count
// as a name, and each that refuses one.
func TestPeopleEvidenceRules(t *testing.T) {
	p := NewPeople([]string{"May Lin", "April Rose", "Daisy Miller", "Sam Green", "Will Smith", "Hope Mendes"}, 0)
	for _, tc := range []struct{ text, want string }{
		// Capitalised mid-sentence; a month after a preposition of time is not.
		{"I met May at the fair", "May"},
		{"I started in May and love it", ""},
		{"In April, the garden opens", ""},
		{"Please sign by the end of April", ""},
		// Followed by a known surname, or by a verb of saying.
		{"Will Smith called", "Will Smith"},
		{"Daisy said the CV looks great", "Daisy"},
		{"Daisy chains are fun", ""},
		// A self-introduction, in any case.
		{"hi im will, the new joiner", "will"},
		{"call me Hope, everyone does", "Hope"},
		// Sentence-initial common words without evidence.
		{"Will you review it?", ""},
		{"Hope you are well", ""},
		{"hope so", ""},
		// An initial stands alone: not the s of "hunter's".
		{"S. Green signed", "S. Green"},
		{"A hunter's green jacket", ""},
	} {
		var got []string
		for _, sp := range p.Find(tc.text) {
			got = append(got, tc.text[sp.Start:sp.End])
		}
		if strings.Join(got, " | ") != tc.want {
			t.Errorf("Find(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
}
