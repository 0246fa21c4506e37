package redact

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// DefaultMaxPeople bounds a People dictionary when NewPeople is given 0:
// about 100,000 people stay within some tens of megabytes.
const DefaultMaxPeople = 100_000

// People is one tenant's dictionary of known people: the names, e-mail
// addresses and phone numbers its application holds, found in free text
// without the caller listing them. Full names ("Grace Hopper"), the first
// name with the surname only ("Grace B. Hopper" is also "Grace Hopper")
// and the initial with the surname ("G. Hopper") are replaced wherever
// they stand, in any case and with or without diacritics; a first name or
// surname alone only when it is capitalised, and when it is also a common
// word ("Grace", "Will", "Hope") only with evidence: capitalised
// mid-sentence, followed by a known surname, or after a self-introduction
// ("I'm …", "my name is …"). Each is replaced by the pseudonym of the
// person's full name, so every mention of one person reads alike. A
// known phone number is replaced as the phone detector would replace it,
// also where that detector, lacking context, does not (a bare
// "600123456"); addresses are left to the e-mail detector, which finds
// them all. A People is immutable and safe for concurrent use.
type People struct {
	ac       ahocorasick.AhoCorasick
	entries  []peopleEntry // by pattern index
	surnames map[string]bool
	// initials maps "g hopper" (a first name's initial and a surname,
	// folded) to the full name: an initial is read before a surname the
	// automaton found, rather than being a pattern of its own.
	initials map[string]string
	n        int
	// triggers holds, folded, the first word of two letters or more of
	// every pattern: a text none of whose words is one holds no match,
	// and the automaton runs only around the words that are (see Find).
	triggers map[string]reach
	// bloom holds two bits per trigger, from wordHash: most words are
	// refused by it without a look-up in triggers.
	bloom []uint64
	// bloomAny holds the triggers of the patterns that may match in lower
	// case: a lower-case word is looked up in it alone, unless it follows
	// a self-introduction.
	bloomAny []uint64
	// prefix and prefixAny hold a bit for the first three bytes of each
	// trigger of bloom and of bloomAny: Detect's pass refuses most words
	// by them alone (see scanner.personAt).
	prefix, prefixAny [prefixWords]uint64
	firstByte         [256]bool // the first bytes of the triggers
	short             bool      // some trigger is a single byte
	digits            bool      // some trigger starts with a digit
}

// reach is how far the patterns a trigger starts reach around it, and
// whether any of them may match in lower case.
type reach struct {
	lead, tail uint16 // the most bytes a pattern holds before the word, and from it to the end
	anyCase    bool
}

type peopleEntry struct {
	value string // the full name, address or number whose pseudonym replaces the match
	kind  Kind   // Name, Email or Phone
	weak  bool   // a single word: needs a capital, and evidence if common
}

// Person is what an application holds of one person: names, e-mail
// addresses and phone numbers, as stored.
type Person struct {
	Names, Emails, Phones []string
}

// NewPeople builds the dictionary of names, each a person of its own; see
// NewPeopleOf.
func NewPeople(names []string, max int) *People {
	people := make([]Person, len(names))
	for i, n := range names {
		people[i] = Person{Names: []string{n}}
	}
	return NewPeopleOf(people, max)
}

// NewPeopleOf builds the dictionary of people, keeping the first max (0:
// DefaultMaxPeople); blank identities and people adding none are skipped.
// A name that several people share is replaced by the pseudonym of the
// first.
func NewPeopleOf(people []Person, max int) *People {
	if max <= 0 {
		max = DefaultMaxPeople
	}
	p := &People{surnames: map[string]bool{}, initials: map[string]string{}}
	index := map[string]int{}
	var patterns []string
	add := func(pat string, e peopleEntry) bool {
		if len(pat) < 2 {
			return false
		}
		if i, ok := index[pat]; ok {
			if !e.weak && p.entries[i].weak { // a full name wins over a lone word
				p.entries[i] = e
			}
			return false
		}
		index[pat] = len(patterns)
		patterns = append(patterns, pat)
		p.entries = append(p.entries, e)
		return true
	}
	for _, person := range people {
		if p.n >= max {
			break
		}
		added := false
		for _, name := range person.Names {
			added = p.addName(name, add) || added
		}
		for _, phone := range person.Phones {
			phone = strings.TrimSpace(phone)
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, phone)
			if len(digits) < 6 { // too short to tell from any number
				continue
			}
			folded, _ := fold(phone)
			added = add(folded, peopleEntry{value: phone, kind: Phone}) || added
			added = add(digits, peopleEntry{value: phone, kind: Phone}) || added
		}
		if added {
			p.n++
		}
	}
	p.triggers = make(map[string]reach, len(patterns))
	p.bloom, p.bloomAny = make([]uint64, bloomWords), make([]uint64, bloomAnyWords)
	for i, pat := range patterns {
		p.addTrigger(pat, !p.entries[i].weak)
	}
	// ASCII case-insensitivity lets plain ASCII text be searched as it
	// is, without folding it first (see Find).
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{MatchKind: ahocorasick.LeftMostLongestMatch, DFA: false, AsciiCaseInsensitive: true})
	p.ac = b.Build(patterns)
	return p
}

// addName adds the patterns of one full name: the name, first and last
// word, initial and last word, and each of these words alone, weak.
func (p *People) addName(name string, add func(string, peopleEntry) bool) bool {
	folded, _ := fold(strings.TrimSpace(name))
	words := strings.Fields(strings.Map(func(r rune) rune {
		if r == '.' || r == ',' {
			return ' '
		}
		return r
	}, folded))
	if len(words) == 0 {
		return false
	}
	name = strings.Join(strings.Fields(name), " ")
	full := peopleEntry{value: name, kind: Name}
	added := add(strings.Join(words, " "), peopleEntry{value: name, kind: Name, weak: len(words) == 1})
	if len(words) < 2 {
		return added
	}
	first, last := words[0], words[len(words)-1]
	p.surnames[last] = true
	add(first+" "+last, full)
	initial, _ := utf8.DecodeRuneInString(first)
	if k := string(initial) + " " + last; p.initials[k] == "" {
		p.initials[k] = name
	}
	weak := peopleEntry{value: name, kind: Name, weak: true}
	add(first, weak)
	add(last, weak)
	return added
}

// Len returns the number of people in the dictionary.
func (p *People) Len() int {
	if p == nil {
		return 0
	}
	return p.n
}

// Find returns the spans of the known people's names (kind Name),
// addresses and numbers in text, in order; Redactor.Redact replaces a
// name with the pseudonym of the person's full name.
//
// Most chat text names nobody: its words are looked up in the set of the
// patterns' first words, folded on the fly, and a text with none of them
// costs no allocation and never reaches the automaton. Otherwise the
// automaton runs over windows around those words only, wide enough for
// the longest pattern.
func (p *People) Find(text string) []Span {
	if p == nil || p.n == 0 || text == "" {
		return nil
	}
	var buf [8]hit
	return p.find(text, p.hits(text, buf[:0]))
}

// find is Find, given the triggers in text (hits, in order).
func (p *People) find(text string, hits []hit) []Span {
	if len(hits) == 0 {
		return nil
	}
	folded, orig := text, []int(nil)
	if !plain(text) {
		// The windows, around triggers found in text where capitals
		// show, in folded.
		buf := origs.Get().(*[]int)
		defer origs.Put(buf)
		folded, *buf = foldInto(text, (*buf)[:0])
		orig = *buf
	}
	var buf [8][2]int
	wins := windows(hits, len(text), orig, buf[:0])
	at := func(i int) int {
		if orig == nil {
			return i
		}
		return orig[i]
	}
	var out []Span
	done := 0 // the iterator can report the tail of a match again: skip it
	for _, w := range wins {
		it := p.ac.Iter(folded[w[0]:w[1]])
		for m := it.Next(); m != nil; m = it.Next() {
			s, e := w[0]+m.Start(), w[0]+m.End()
			if s < done || wordBefore(folded, s) || wordAfter(folded, e) {
				continue
			}
			ent := p.entries[m.Pattern()]
			if ent.weak {
				if full, is := p.initialBefore(folded, s, e, done); is >= 0 {
					s, ent = is, peopleEntry{value: full, kind: Name}
				}
			}
			start, end := at(s), at(e)
			if ent.weak && !p.evidence(text, folded, start, s, e) {
				continue
			}
			out = append(out, Span{Kind: ent.kind, Start: start, End: end, value: ent.value})
			done = e
		}
	}
	return out
}

// addTrigger records the word of pattern (folded) that a match is looked
// for around: its first word of two letters or more (its first word when
// it has none), or the longest group of a number, with how far a match
// may reach before and after it. A pattern that may match in lower case
// (a full name, a number, not a lone word) also goes to bloomAny.
func (p *People) addTrigger(pattern string, anyCase bool) {
	first := [2]int{-1, -1}
	number := isDigit(pattern[0]) || pattern[0] == '+' || pattern[0] == '('
	eachWord(pattern, func(s, e int) bool {
		switch {
		case first[0] < 0, number && e-s > first[1]-first[0]:
			first = [2]int{s, e}
		}
		if !number && e-s >= 2 {
			first = [2]int{s, e}
			return false
		}
		return true
	})
	if first[0] < 0 {
		return
	}
	w := pattern[first[0]:first[1]]
	p.short = p.short || len(w) < 2
	p.digits = p.digits || isDigit(w[0])
	p.firstByte[w[0]] = true
	old := p.triggers[w]
	p.triggers[w] = reach{lead: max(old.lead, uint16(min(first[0], 0xffff))),
		tail: max(old.tail, uint16(min(len(pattern)-first[0], 0xffff))), anyCase: old.anyCase || anyCase}
	var key uint64
	for i := 0; i < len(w) && i < 8; i++ {
		key |= uint64(w[i]) << (8 * i)
	}
	h := wordKey(key, len(w))
	i, bits := bloomBits(h, bloomWords)
	p.bloom[i] |= bits
	var c [3]byte
	copy(c[:], w)
	pi, pbit, ascii := prefixBit(c[0], c[1], c[2])
	if ascii {
		p.prefix[pi] |= pbit
	}
	if anyCase {
		i, bits = bloomBits(h, bloomAnyWords)
		p.bloomAny[i] |= bits
		if ascii {
			p.prefixAny[pi] |= pbit
		}
	}
}

// eachWord calls f with the start and end of each word of t (runs of
// letters and digits, any non-ASCII byte counting as a letter) until f
// returns false.
func eachWord(t string, f func(s, e int) bool) {
	for i := 0; i < len(t); {
		if !wordByte(t[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(t) && wordByte(t[j]) {
			j++
		}
		if !f(i, j) {
			return
		}
		i = j
	}
}

func wordByte(c byte) bool { return c >= utf8.RuneSelf || isAlnum(c) }

// bloomWords is the size of a People's bloom filter in 64-bit words:
// 2 Mbit. The filter is blocked: a trigger's two bits are in one word, so
// a look-up reads one cache line; under one percent false positives at
// 100,000 triggers.
const bloomWords = 1 << 15

// wordKey hashes a folded word for the filter from its first eight bytes,
// little-endian in key, and its length n: cheap to gather while scanning.
func wordKey(key uint64, n int) uint64 {
	h := (key ^ uint64(n)*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}

// bloomAnyWords is the size of the filter of the triggers that may match
// in lower case (first names, numbers): 256 Kbit, which stays in cache.
const bloomAnyWords = 1 << 12

// prefixWords is the size of the filters of the triggers' first three
// bytes in 64-bit words: 64 Kbit, which stay in the first-level cache.
const prefixWords = 1 << 10

// prefixBit returns the word of a prefix filter and the bit in it for a
// word whose first three bytes are c0, c1 and c2 (of which those past the
// word's end are ignored), in any case; ascii is false when one of them
// is not ASCII, which the filters do not cover.
func prefixBit(c0, c1, c2 byte) (i int, bit uint64, ascii bool) {
	f0, f1, f2 := prefixByte[c0], prefixByte[c1], prefixByte[c2]
	if f1 == 0 {
		f2 = 0
	}
	h := prefixHash(f0, f1, f2)
	return int(h>>6) & (prefixWords - 1), 1 << (h & 63), (f0|f1|f2)&0x80 == 0
}

// prefixHash is the 16-bit hash of a word's first three bytes as
// prefixByte maps them.
func prefixHash(f0, f1, f2 byte) uint64 {
	return (uint64(f0) | uint64(f1)<<8 | uint64(f2)<<16) * 0x9e3779b97f4a7c15 >> 48
}

// prefixByte maps an ASCII letter or digit to itself lower-cased, any
// other ASCII byte to 0 and a non-ASCII byte to 0x80.
var prefixByte = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = 0x80
		case isAlnum(byte(c)):
			t[c] = lower(byte(c))
		}
	}
	return t
}()

// bloomBits returns the word of a filter of size words and the two bits
// in it for h.
func bloomBits(h uint64, size int) (int, uint64) {
	return int(h>>32) & (size - 1), 1<<(h&63) | 1<<((h>>6)&63)
}

// isIntroKey reports whether key (as wordKey's) is a word after which a
// lone name may be written in lower case: "i'm", "im", "i am", "my name
// is", "call me".
func isIntroKey(key uint64) bool {
	switch key {
	case 'm', 'i' | 'm'<<8, 'a' | 'm'<<8, 'i' | 's'<<8, 'm' | 'e'<<8:
		return true
	}
	return false
}

// hit is a trigger found in a text: where its word starts and how far
// the patterns it starts reach around it.
type hit struct {
	start int
	reach reach
}

// hits appends to out the triggers in text, in order: its words that are
// one once folded. Words are folded on the fly: a text with no trigger
// costs no allocation.
func (p *People) hits(text string, out []hit) []hit {
	prevIntro := false
	for i := 0; i < len(text); {
		if !wordByte(text[i]) {
			i++
			continue
		}
		start := i
		w := readWord(text, i)
		i = w.end
		intro := prevIntro
		prevIntro = w.intro()
		if r, ok := p.trigger(text[start:i], w, intro); ok {
			out = append(out, hit{start: start, reach: r})
		}
	}
	return out
}

// windows appends to out the stretches of a text of n bytes, merged and
// in order, where a match may stand: from as far before each hit to as
// far after it as a pattern it starts reaches. With orig, fold's map of a
// folded text to text, the windows are given in the folded text.
func windows(hits []hit, n int, orig []int, out [][2]int) [][2]int {
	for _, h := range hits {
		start, end := h.start, n
		if orig != nil {
			start, _ = slices.BinarySearch(orig, start)
			end = len(orig) - 1
		}
		ws, we := max(0, start-int(h.reach.lead)), min(end, start+int(h.reach.tail))
		if k := len(out); k > 0 && ws <= out[k-1][1] {
			out[k-1][1] = max(out[k-1][1], we)
		} else {
			out = append(out, [2]int{ws, we})
		}
	}
	return out
}

// peopleWord is a word of a text as the triggers are looked up by: runs
// of letters and digits, any non-ASCII byte counting as a letter.
type peopleWord struct {
	end     int    // where the word ends in the text
	key     uint64 // its first eight bytes folded, little-endian
	n       int    // its length folded
	capital bool   // its first letter is upper case
}

// intro reports whether w is a word after which a lone name may be
// written in lower case (see isIntroKey).
func (w peopleWord) intro() bool { return w.n <= 2 && isIntroKey(w.key) }

// readWord reads the word starting at i in text, folding it on the fly.
func readWord(text string, i int) peopleWord {
	start, c := i, text[i]
	w := peopleWord{capital: 'A' <= c && c <= 'Z'}
	if c >= utf8.RuneSelf {
		r, _ := utf8.DecodeRuneInString(text[i:])
		w.capital = unicode.IsUpper(r)
	}
	// ASCII letters and digits, the most of any text, first.
	for i < len(text) && isAlnum(text[i]) {
		i++
	}
	for j := start; j < i && j < start+8; j++ {
		w.key |= uint64(lower(text[j])) << (8 * (j - start))
	}
	n := i - start
	for i < len(text) {
		c = text[i]
		if c < utf8.RuneSelf {
			if !isAlnum(c) {
				break
			}
			if n < 8 {
				w.key |= uint64(lower(c)) << (8 * n)
			}
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		var enc [utf8.UTFMax]byte
		for _, b := range enc[:utf8.EncodeRune(enc[:], baseLetter(r))] {
			if n < 8 {
				w.key |= uint64(b) << (8 * n)
			}
			n++
		}
		i += size
	}
	w.end, w.n = i, n
	return w
}

// trigger returns how far a match may reach around word, read as w, when
// it is a trigger: one that may match in lower case, or any when w is
// capitalised or follows a self-introduction.
func (p *People) trigger(word string, w peopleWord, intro bool) (reach, bool) {
	if w.n < 2 && !p.short {
		return reach{}, false
	}
	filter, size := p.bloomAny, bloomAnyWords
	if w.capital || intro {
		filter, size = p.bloom, bloomWords
	}
	if j, bits := bloomBits(wordKey(w.key, w.n), size); filter[j]&bits != bits {
		return reach{}, false
	}
	r, ok := p.triggers[foldWord(word)]
	return r, ok && (r.anyCase || w.capital || intro)
}

// foldWord returns word lower-cased, without the diacritics of Latin
// letters; a plain lower-case word is returned as it is.
func foldWord(word string) string {
	for i := 0; i < len(word); i++ {
		if c := word[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			var buf [64]byte
			w := buf[:0]
			for _, r := range word {
				w = utf8.AppendRune(w, baseLetter(r))
			}
			return string(w)
		}
	}
	return word
}

// initialBefore returns the full name and the start of "g. " or "g "
// before a surname at s to e in folded, when g is the initial of a known
// person of that surname, and -1 otherwise; the initial must start at or
// after done.
func (p *People) initialBefore(folded string, s, e, done int) (string, int) {
	i := s - 1
	if i < 1 || folded[i] != ' ' {
		return "", -1
	}
	i--
	if folded[i] == '.' {
		i--
	}
	if i < 0 {
		return "", -1
	}
	r, n := utf8.DecodeLastRuneInString(folded[:i+1])
	is := i + 1 - n
	// The initial stands alone: "a hunter's green" holds no initial.
	if is < done || !unicode.IsLetter(r) || (is > 0 && !strings.ContainsRune(" (\"“", rune(folded[is-1]))) {
		return "", -1
	}
	var k [64]byte
	key := append(utf8.AppendRune(k[:0], unicode.ToLower(r)), ' ')
	key = append(key, strings.ToLower(folded[s:e])...)
	if full, ok := p.initials[string(key)]; ok {
		return full, is
	}
	return "", -1
}

// evidence reports whether the single word at start in text (at fs to fe
// in folded) is a name rather than a word: capitalised, and, when it is
// a common word, capitalised mid-sentence (a month after a preposition of
// time is no evidence: "in May"), followed by a known surname or a verb
// of saying ("Rose said"), or introduced as a name.
func (p *People) evidence(text, folded string, start, fs, fe int) bool {
	intro := introduced(text[:start])
	r, _ := utf8.DecodeRuneInString(text[start:])
	capital := unicode.IsUpper(r)
	word := strings.ToLower(folded[fs:fe])
	if !commonWords[word] {
		return capital || intro
	}
	if intro || (capital && (p.surnameAfter(folded, fe) || saidAfter(folded, fe))) {
		return true
	}
	if !capital || !midSentence(text[:start]) {
		return false
	}
	return !monthWords[word] || !datePreposition(folded[:fs])
}

// saidAfter reports whether the word after fe in folded is a verb of
// saying or writing, which a name is the subject of.
func saidAfter(folded string, fe int) bool { return saidVerbs[nextWord(folded, fe)] }

// nextWord returns the word after the one ending at fe in folded,
// lower-cased, or "".
func nextWord(folded string, fe int) string {
	if fe >= len(folded) || folded[fe] != ' ' {
		return ""
	}
	rest := folded[fe+1:]
	n := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	if n < 0 {
		n = len(rest)
	}
	return strings.ToLower(rest[:n])
}

var saidVerbs = map[string]bool{"said": true, "says": true, "told": true, "tells": true, "asked": true, "asks": true,
	"wrote": true, "writes": true, "replied": true, "replies": true, "mentioned": true, "thinks": true, "thought": true,
	"suggested": true, "recommended": true, "emailed": true, "texted": true, "called": true, "sent": true}

// monthWords are common words that are also always capitalised.
var monthWords = map[string]bool{"april": true, "may": true, "june": true, "august": true}

// datePreposition reports whether before ends with a word that puts a
// month after it ("in", "since", "next", ...).
func datePreposition(before string) bool {
	b := strings.TrimRight(before, " ")
	i := strings.LastIndexFunc(b, func(r rune) bool { return !unicode.IsLetter(r) })
	switch strings.ToLower(b[i+1:]) {
	case "in", "on", "of", "by", "until", "till", "since", "from", "during", "next", "last", "early", "late", "mid", "this", "before", "after", "end":
		return true
	}
	return false
}

// surnameAfter reports whether the word after fe in folded is a known
// surname.
func (p *People) surnameAfter(folded string, fe int) bool { return p.surnames[nextWord(folded, fe)] }

// introductions end the words before a self-introduction, lower-cased.
var introductions = []string{"i'm", "i’m", "im", "i am", "my name is", "my name's", "call me", "this is", "name is"}

// introduced reports whether before ends with a self-introduction,
// reading only its last words.
func introduced(before string) bool {
	b := strings.TrimRight(before, " \t")
	for _, w := range introductions {
		if len(b) >= len(w) && strings.EqualFold(b[len(b)-len(w):], w) && !wordBefore(b, len(b)-len(w)) {
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

// origs holds the maps of folded texts to texts that Find uses while it
// runs, so that a text naming someone costs no such allocation.
var origs = sync.Pool{New: func() any { return new([]int) }}

// fold returns text lower-cased, without the diacritics of Latin letters
// and with runs of white space and hyphens as one space, and the offset in
// text of each byte of the result, plus len(text) at the end.
func fold(text string) (string, []int) { return foldInto(text, nil) }

// foldInto is fold, appending the offsets to orig.
func foldInto(text string, orig []int) (string, []int) {
	var b strings.Builder
	b.Grow(len(text))
	orig = slices.Grow(orig, len(text)+1)
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
