package redact

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Detect returns the values to redact in text: e-mail addresses, phone
// numbers, IBANs, card numbers, IP addresses, URL credentials, and the
// subject's known identities (names, handles, addresses given by the
// caller), matched case-insensitively and ignoring the diacritics of Latin
// letters on word boundaries, with any run of white space or hyphens in a
// known string matching any such run in the text. Known strings that are
// shorter than two characters after trimming white space are ignored, and
// so, in effect, are those starting with neither a letter nor a digit
// ("@anna", "+44 …"): they are looked for only where a word starts. Phone
// numbers and e-mail addresses are found by their own detectors anyway.
//
// Spans are sorted by Start and do not overlap: where two candidates
// overlap the longer wins, and between equal lengths the more specific kind
// (the order of Kinds). Offsets are byte offsets into text; Token is empty.
// Detect returns nil, without allocating, when there is nothing to redact.
func Detect(text string, known ...string) []Span {
	spans, _ := detect(text, known, nil)
	return spans
}

// detect is Detect, also returning the triggers of people in text, in
// order, around which People.find looks for their patterns.
func detect(text string, known []string, people *People) ([]Span, []hit) {
	s := scanner{text: text}
	if people.Len() > 0 {
		s.people = people
	}
	s.indexKnown(known)
	s.run(known)
	return s.spans, s.hits
}

// scanner makes one pass over the text. It looks closer only at anchors: a
// digit, '+' or '(' that starts a number, '@', ':', '[', and letters that
// start a word (an IBAN's country code or a known identity's first letter).
//
// The known identities are passed along rather than kept in the scanner:
// escape analysis would see them flow to the heap with the spans, and a
// caller's variadic arguments would be allocated on every call.
type scanner struct {
	text  string
	first [256]bool // first bytes of the known identities, in every case
	spans []Span
	floor int // end of the last span that is not an identity: backward scans stop here
	// people is the dictionary whose triggers each word is looked up
	// in, and hits those found.
	people *People
	hits   []hit
}

// Byte classes of the main loop.
const (
	clsOther  = iota // nothing starts here
	clsLetter        // ASCII letter
	clsDigit
	clsHigh // first or continuation byte of a multi-byte rune
	clsAt
	clsColon
	clsPlus    // '+'
	clsParen   // '('
	clsBracket // '['
)

var class = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = clsLetter, clsLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsDigit
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = clsHigh
	}
	t['@'], t[':'], t['+'], t['('], t['['] = clsAt, clsColon, clsPlus, clsParen, clsBracket
	return t
}()

func (s *scanner) run(known []string) {
	t := s.text
	for i := 0; i < len(t); {
		e := i + 1
		switch class[t[i]] {
		case clsOther:
			i++
			continue
		case clsLetter:
			// atLetter looks its words up among the people's triggers.
			i = s.atLetter(i, known)
			continue
		case clsDigit:
			e = s.atDigit(i, known)
			if s.people != nil && (s.people.digits || s.first[t[i]]) {
				// Else a number's digits and separators start no trigger,
				// and only a known identity holds more.
				s.peopleScan(i, e)
			}
			i = e
			continue
		case clsHigh:
			// One rune: only its first byte may start a word.
			e = s.atHigh(i, known)
			if s.people != nil {
				s.personAt(i)
			}
			i = e
			continue
		case clsAt:
			e = s.atEmail(i)
		case clsColon:
			e = s.atColon(i)
		case clsPlus, clsParen:
			e = s.atSign(i)
		case clsBracket:
			e = max(s.obfuscatedEmail(i), i+1)
		}
		if s.people != nil && e > i+1 {
			// The byte at i starts no word; what the detector read past
			// it may.
			s.peopleScan(i+1, e)
		}
		i = e
	}
}

// atLetter tries an identity and an IBAN at the start of a word, then
// skips the word's remaining ASCII letters.
func (s *scanner) atLetter(i int, known []string) int {
	t := s.text
	if p := s.people; p != nil && (i == 0 || !wordByte(t[i-1])) && (i+2 >= len(t) || p.mayStart(t[i], t[i+1], t[i+2])) {
		s.person(i)
	}
	if !wordBefore(t, i) {
		e := i
		if s.first[t[i]] {
			e = s.identity(i, known)
		}
		if i+3 < len(t) && class[t[i+1]] == clsLetter && isDigit(t[i+2]) && isDigit(t[i+3]) {
			e = max(e, s.iban(i))
		}
		if e > i {
			if s.people != nil {
				s.peopleScan(i+1, e)
			}
			return e
		}
	}
	i++
	for i < len(t) && class[t[i]] == clsLetter {
		i++
	}
	return i
}

// atHigh tries an identity that starts with a non-ASCII letter, then skips
// the rune.
func (s *scanner) atHigh(i int, known []string) int {
	t := s.text
	if s.first[t[i]] && !wordBefore(t, i) {
		if e := s.identity(i, known); e > i {
			return e
		}
	}
	_, n := utf8.DecodeRuneInString(t[i:])
	return i + n
}

// atDigit tries a known identity starting with a digit and a number
// where one can start, else skips the digits.
func (s *scanner) atDigit(i int, known []string) int {
	t := s.text
	e := 0
	if s.first[t[i]] && !wordBefore(t, i) {
		e = s.identity(i, known)
	}
	if numStart(t, i) {
		return max(e, s.number(i))
	}
	if e > i {
		return e
	}
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	return i
}

// atSign tries a number opened by '+' or '(', and an e-mail address
// written with "(at)".
func (s *scanner) atSign(i int) int {
	t := s.text
	if t[i] == '(' {
		if e := s.obfuscatedEmail(i); e > i {
			return e
		}
	}
	next := i + 1
	if next < len(t) && t[i] == '+' && t[next] == '(' {
		next++
	}
	if next < len(t) && isDigit(t[next]) && !wordBefore(t, i) && (i == 0 || t[i-1] != '+') {
		return s.number(i)
	}
	return i + 1
}

// atColon tries URL credentials at "://" and an IPv6 address around ':'.
func (s *scanner) atColon(i int) int {
	t := s.text
	if i+2 < len(t) && t[i+1] == '/' && t[i+2] == '/' {
		if e := s.urlCredentials(i); e > i {
			return e
		}
		return i + 3
	}
	if e := s.ipv6(i); e > i {
		return e
	}
	return i + 1
}

// add records a span found by a detector and reports whether it was kept.
// Spans are found in order of position except that e-mail addresses are
// found at their '@', after any identity within their local part: a new
// span replaces the spans it overlaps if it is better than each of them,
// and is dropped otherwise.
func (s *scanner) add(sp Span) bool {
	spans := s.spans
	j := len(spans)
	for j > 0 && spans[j-1].End > sp.Start {
		j--
	}
	k := j
	for ; k < len(spans) && spans[k].Start < sp.End; k++ {
		if !sp.better(spans[k]) {
			return false
		}
	}
	s.spans = slices.Replace(spans, j, k, sp)
	if sp.Kind != Identity {
		s.floor = sp.End
	}
	return true
}

// found adds a span and returns where scanning continues: after the span
// if it was kept, else at from.
func (s *scanner) found(k Kind, start, end, from int) int {
	if s.add(Span{Kind: k, Start: start, End: end}) {
		return end
	}
	return from
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return class[c] == clsLetter || class[c] == clsDigit }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// wordBefore reports whether the character before i is part of a word (a
// letter, digit or '_'), so that i does not start a word.
func wordBefore(t string, i int) bool {
	if i == 0 {
		return false
	}
	c := t[i-1]
	if c < utf8.RuneSelf {
		return isAlnum(c) || c == '_'
	}
	r, _ := utf8.DecodeLastRuneInString(t[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordAfter reports whether the character at i continues a word.
func wordAfter(t string, i int) bool {
	if i >= len(t) {
		return false
	}
	c := t[i]
	if c < utf8.RuneSelf {
		return isAlnum(c) || c == '_'
	}
	r, _ := utf8.DecodeRuneInString(t[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// numStart reports whether a number can start at i: not inside a word or
// identifier ("INV-2024", "#1234"), and not a later part of a number
// ("2024-03-15", "1.234", "14:30").
func numStart(t string, i int) bool {
	if i == 0 {
		return true
	}
	c := t[i-1]
	var before byte
	if i >= 2 {
		before = t[i-2]
	}
	switch {
	case isAlnum(c) || c == '_' || c == '#' || c == '+':
		return false
	case c == '.' || c == ',' || c == ':':
		return !isDigit(before)
	case c == '-' || c == '/':
		return !isAlnum(before)
	case c >= utf8.RuneSelf:
		return !wordBefore(t, i)
	}
	return true
}
