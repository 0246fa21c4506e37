package redact

import "unicode/utf8"

// Detect's pass over a text also finds the triggers of the known
// people's dictionary (see People.hits), by the same rules, word by word:
// most texts name nobody, and for them the dictionary then costs no pass
// of its own; People.find searches the others around the triggers found. The scanner looks up each
// word start once, wherever its detectors take it; the first three bytes
// of a word refuse most words (personAt) before it is read.

// personAt looks up the word starting at i, if one does, among the
// triggers of s.people, and adds it to s.hits when it is one.
func (s *scanner) personAt(i int) {
	t := s.text
	if i > 0 && wordByte(t[i-1]) {
		return
	}
	if i+2 < len(t) && !s.people.mayStart(t[i], t[i+1], t[i+2]) {
		return
	}
	if c := t[i]; c >= utf8.RuneSelf {
		// The first letter folded: most non-ASCII words ("€", "à")
		// start no trigger.
		r, _ := utf8.DecodeRuneInString(t[i:])
		var enc [utf8.UTFMax]byte
		utf8.EncodeRune(enc[:], baseLetter(r))
		c = enc[0]
		if !s.people.firstByte[c] {
			return
		}
	}
	s.person(i)
}

// mayStart reports whether a word whose first three bytes are c0, c1 and
// c2 may be a trigger: when they are not all ASCII, or their prefix is
// one of a trigger.
func (p *People) mayStart(c0, c1, c2 byte) bool {
	f0, f1, f2 := prefixByte[c0], prefixByte[c1], prefixByte[c2]
	if f1 == 0 {
		f2 = 0
	}
	h := prefixHash(f0, f1, f2)
	return (f0|f1|f2)&0x80 != 0 || p.prefix[(h>>6)&(prefixWords-1)]&(1<<(h&63)) != 0
}

// person looks up the word at i, which personAt let through; whether
// the word before is a self-introduction is read last, when only that
// would make the word a trigger.
func (s *scanner) person(i int) {
	t, p := s.text, s.people
	anyCase := true
	if i+2 < len(t) {
		j, bit, ascii := prefixBit(t[i], t[i+1], t[i+2])
		anyCase = !ascii || p.prefixAny[j]&bit != 0
	}
	w := readWord(t, i)
	word := t[i:w.end]
	if anyCase || w.capital {
		if r, ok := p.trigger(word, w, false); ok {
			s.hits = append(s.hits, hit{start: i, reach: r})
			return
		}
	}
	if w.capital {
		return
	}
	if r, ok := p.trigger(word, w, true); ok && introBefore(t, i) {
		s.hits = append(s.hits, hit{start: i, reach: r})
	}
}

// introBefore reports whether the word before the one at i in t is a
// self-introduction, as People.windows reads words (see isIntroKey).
func introBefore(t string, i int) bool {
	e := i
	for e > 0 && !wordByte(t[e-1]) {
		e--
	}
	s := e
	for s > 0 && wordByte(t[s-1]) {
		if s--; e-s > 8 {
			return false // longer than any introduction, folded or not
		}
	}
	return s < e && readWord(t, s).intro()
}

// peopleScan looks up, as personAt, the words starting from from to to:
// those starting with a digit only when some trigger does.
func (s *scanner) peopleScan(from, to int) {
	t := s.text
	for i := from; i < to; i++ {
		if c := t[i]; wordByte(c) && (s.people.digits || !isDigit(c)) {
			s.personAt(i)
		}
	}
}
