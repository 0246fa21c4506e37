package redact

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

// namedLines returns the dictionary of the names corpus, once with phone
// numbers and once without, and its texts,
// with texts that put its words where only some of Detect's paths reach
// them: inside numbers, addresses, IBANs and known identities, after '_'
// and non-letters, at the start and end of the text.
func namedLines(t testing.TB) ([]*People, []string) {
	var people []*People
	var texts []string
	s := bufio.NewScanner(NamesCorpus())
	for s.Scan() {
		expected, text, ok := strings.Cut(s.Text(), "\t")
		switch {
		case !ok || strings.HasPrefix(expected, "#"):
		case expected == "people":
			names := strings.Split(text, " | ")
			people = []*People{NewPeople(names, 0),
				NewPeopleOf([]Person{{Names: names, Phones: []string{"+44 7700 900123", "600 123 456"}}}, 0)}
		default:
			texts = append(texts, text)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	texts = append(texts, "Hi, I'm Anna Schmidt (anna.schmidt@example.de, +49 30 12345678), Grace said.", "Grace", "x_Grace Hopper", "—Grace said", "2Grace", "é Grace", "grace.hopper@example.com",
		"mail grace@hopper.com:path", "call 600123456 now", "+44 7700 900123", "ref 12 600 123 456", "DE89 3704 0044 0532 0130 00 Grace",
		"im will", "I m hope", "I’m Rose", "Zoë", "ZOË BRANDT", "s. green", "jean-luc", "Jean–Luc Picard", "(Grace)", "[at]Grace", "a:Grace",
		"x://Grace@host", "Hopper", "hopper", "Ada", "ad", "a", "", "12 Grace", "+44 (0) 20 Grace", "1.2.3.4 Hopper", "2Grace Hopper", "€Grace", "Ångström",
		"\u212aelvin Ada", "ÉLODIE", "call me grace", "this is hopper", "I’m hopper")
	return people, texts
}

// TestDetectTellsWhetherPeopleMayMatch: Detect's pass finds the triggers
// of the dictionary that People.Find's own look-up of the words finds, so
// that Redact searches around the same words, and skips a text where
// Find would find nothing.
func TestDetectTellsWhetherPeopleMayMatch(t *testing.T) {
	dicts, texts := namedLines(t)
	for _, people := range dicts {
		for _, text := range texts {
			for _, known := range [][]string{nil, {"Grace Hopper"}, {"grace.hopper@example.com", "600"}, {"2Grace"}} {
				_, hits := detect(text, known, people)
				if want := people.hits(text, nil); !slices.Equal(hits, want) {
					t.Errorf("detect(%q, %q) with %d patterns: triggers %v; the dictionary's own look-up finds %v",
						text, known, len(people.entries), hits, want)
				}
			}
		}
	}
	if _, hits := detect("Grace Hopper", nil, nil); hits != nil {
		t.Error("triggers without a dictionary")
	}
}

// FuzzDetectTellsWhetherPeopleMayMatch is TestDetectTellsWhetherPeopleMayMatch
// for any text.
func FuzzDetectTellsWhetherPeopleMayMatch(f *testing.F) {
	dicts, texts := namedLines(f)
	for _, text := range texts {
		f.Add(text, "")
	}
	f.Add("call 2Grace at 600 123 456", "2Grace")
	f.Fuzz(func(t *testing.T, text, known string) {
		for _, people := range dicts {
			_, hits := detect(text, []string{known}, people)
			if want := people.hits(text, nil); !slices.Equal(hits, want) {
				t.Fatalf("detect(%q, %q) with %d patterns: triggers %v; the dictionary's own look-up finds %v",
					text, known, len(people.entries), hits, want)
			}
		}
	})
}
