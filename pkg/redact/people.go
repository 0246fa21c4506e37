package redact

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// DefaultMaxPeople bounds a People dictionary when NewPeople is given 0:
// about 100,000 names stay within some tens of megabytes.
const DefaultMaxPeople = 100_000

// People is one tenant's dictionary of known people: the names its
// application holds, found in free text without the caller listing them.
// Full names ("Grace Hopper"), the first name with the surname only
// ("Grace B. Hopper" is also "Grace Hopper") and the initial with the
// surname ("G. Hopper") are replaced wherever they stand, in any case and
// with or without diacritics; a first name or surname alone only when it
// is capitalised, and when it is also a common word ("Grace", "Will",
// "Hope") only with evidence: capitalised mid-sentence, followed by a
// known surname, or after a self-introduction ("I'm …", "my name is …").
// Each is replaced by the pseudonym of the person's full name, so every
// mention of one person reads alike. A People is immutable and safe for
// concurrent use.
type People struct {
	ac       ahocorasick.AhoCorasick
	entries  []peopleEntry // by pattern index
	surnames map[string]bool
	n        int
}

type peopleEntry struct {
	name string // the person's full name, whose pseudonym replaces the match
	weak bool   // a single word: needs a capital, and evidence if common
}

// NewPeople builds the dictionary of names, keeping the first max (0:
// DefaultMaxPeople); blank names and duplicates are skipped. A name that
// several people share is replaced by the pseudonym of the first.
func NewPeople(names []string, max int) *People {
	if max <= 0 {
		max = DefaultMaxPeople
	}
	p := &People{surnames: map[string]bool{}}
	index := map[string]int{}
	var patterns []string
	add := func(pat, name string, weak bool) {
		if len(pat) < 2 {
			return
		}
		if i, ok := index[pat]; ok {
			if !weak && p.entries[i].weak { // a full name wins over a lone word
				p.entries[i] = peopleEntry{name: name}
			}
			return
		}
		index[pat] = len(patterns)
		patterns = append(patterns, pat)
		p.entries = append(p.entries, peopleEntry{name: name, weak: weak})
	}
	seen := map[string]bool{}
	for _, name := range names {
		if p.n >= max {
			break
		}
		folded, _ := fold(strings.TrimSpace(name))
		words := strings.Fields(strings.Map(func(r rune) rune {
			if r == '.' || r == ',' {
				return ' '
			}
			return r
		}, folded))
		if len(words) == 0 || seen[strings.Join(words, " ")] {
			continue
		}
		seen[strings.Join(words, " ")] = true
		p.n++
		name = strings.Join(strings.Fields(name), " ")
		add(strings.Join(words, " "), name, len(words) == 1)
		if len(words) < 2 {
			continue
		}
		first, last := words[0], words[len(words)-1]
		p.surnames[last] = true
		add(first+" "+last, name, false)
		initial, _ := utf8.DecodeRuneInString(first)
		add(string(initial)+". "+last, name, false)
		add(string(initial)+" "+last, name, false)
		add(first, name, true)
		add(last, name, true)
	}
	// ASCII case-insensitivity lets plain ASCII text be searched as it
	// is, without folding it first (see Find).
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{MatchKind: ahocorasick.LeftMostLongestMatch, DFA: false, AsciiCaseInsensitive: true})
	p.ac = b.Build(patterns)
	return p
}

// Len returns the number of people in the dictionary.
func (p *People) Len() int {
	if p == nil {
		return 0
	}
	return p.n
}

// Find returns the spans of the known people's names in text, in order,
// each of kind Name; Redactor.Redact replaces them with the pseudonym of
// the person's full name.
func (p *People) Find(text string) []Span {
	if p == nil || p.n == 0 || text == "" {
		return nil
	}
	folded, orig := text, []int(nil)
	if !plain(text) {
		folded, orig = fold(text)
	}
	at := func(i int) int {
		if orig == nil {
			return i
		}
		return orig[i]
	}
	var out []Span
	done := 0 // the iterator can report the tail of a match again: skip it
	it := p.ac.Iter(folded)
	for m := it.Next(); m != nil; m = it.Next() {
		s, e := m.Start(), m.End()
		if s < done || wordBefore(folded, s) || wordAfter(folded, e) {
			continue
		}
		ent := p.entries[m.Pattern()]
		start, end := at(s), at(e)
		if ent.weak && !p.evidence(text, folded, start, s, e) {
			continue
		}
		out = append(out, Span{Kind: Name, Start: start, End: end, value: ent.name})
		done = e
	}
	return out
}

// evidence reports whether the single word at start in text (at fs to fe
// in folded) is a name rather than a word: capitalised, and, when it is
// a common word, capitalised mid-sentence, followed by a known surname or
// introduced as a name.
func (p *People) evidence(text, folded string, start, fs, fe int) bool {
	intro := introduced(text[:start])
	r, _ := utf8.DecodeRuneInString(text[start:])
	capital := unicode.IsUpper(r)
	word := strings.ToLower(folded[fs:fe])
	if !commonWords[word] {
		return capital || intro
	}
	if intro || (capital && p.surnameAfter(folded, fe)) {
		return true
	}
	return capital && midSentence(text[:start])
}

// surnameAfter reports whether the word after fe in folded is a known
// surname.
func (p *People) surnameAfter(folded string, fe int) bool {
	if fe >= len(folded) || folded[fe] != ' ' {
		return false
	}
	rest := folded[fe+1:]
	n := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	if n < 0 {
		n = len(rest)
	}
	return p.surnames[strings.ToLower(rest[:n])]
}

// introductions end the words before a self-introduction, lower-cased.
var introductions = []string{"i'm", "i’m", "im", "i am", "my name is", "my name's", "call me", "this is", "name is"}

func introduced(before string) bool {
	b := strings.ToLower(strings.TrimRight(before, " \t"))
	for _, w := range introductions {
		if strings.HasSuffix(b, w) && !wordBefore(b, len(b)-len(w)) {
			return true
		}
	}
	return false
}

// midSentence reports whether a word after before stands inside a
// sentence: something precedes it other than the end of a sentence.
func midSentence(before string) bool {
	b := strings.TrimRight(before, " \t\u00a0")
	if b == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(b)
	return !slices.Contains([]rune{'.', '!', '?', '\n', '\r', ':', '"', '“', '(', '-', '*', '>'}, last)
}

// plain reports whether text reads the same folded, but for the case of
// ASCII letters: ASCII without hyphens or runs of white space other than
// single spaces.
func plain(text string) bool {
	prev := byte(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf || c == '-' || c == '\t' || c == '\n' || c == '\r' || (c == ' ' && prev == ' ') {
			return false
		}
		prev = c
	}
	return true
}

// fold returns text lower-cased, without the diacritics of Latin letters
// and with runs of white space and hyphens as one space, and the offset in
// text of each byte of the result, plus len(text) at the end.
func fold(text string) (string, []int) {
	var b strings.Builder
	b.Grow(len(text))
	orig := make([]int, 0, len(text)+1)
	space := false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-' {
				if !space {
					b.WriteByte(' ')
					orig = append(orig, i)
				}
				space = true
				i++
				continue
			}
			space = false
			b.WriteByte(lower(c))
			orig = append(orig, i)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
				orig = append(orig, i)
			}
			space = true
			i += n
			continue
		}
		space = false
		var enc [utf8.UTFMax]byte
		m := utf8.EncodeRune(enc[:], baseLetter(r))
		b.Write(enc[:m])
		for k := 0; k < m; k++ {
			orig = append(orig, i)
		}
		i += n
	}
	return b.String(), append(orig, len(text))
}
