package redact

import (
	"unicode"
	"unicode/utf8"
)

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

// person looks up the word at i, which personAt let through: by its
// first three bytes folded (accented letters and all), then as a whole.
// Whether the word before is a self-introduction is read only when that
// alone would make the word a trigger.
func (s *scanner) person(i int) {
	t, p := s.text, s.people
	anyCase, intro, introRead := true, false, false
	if f, ok := foldedPrefix(t, i); ok {
		h := prefixHash(f[0], f[1], f[2])
		j, bit := int(h>>6)&(prefixWords-1), uint64(1)<<(h&63)
		if p.prefix[j]&bit == 0 {
			return
		}
		if anyCase = p.prefixAny[j]&bit != 0; !anyCase && !upperAt(t, i) {
			// Only a capitalised or introduced word is one of these.
			if intro, introRead = introBefore(t, i), true; !intro {
				return
			}
		}
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
	if !introRead {
		intro = introBefore(t, i)
	}
	if r, ok := p.trigger(word, w, true); ok && intro {
		s.hits = append(s.hits, hit{start: i, reach: r})
	}
}

// foldedPrefix returns the first three bytes of the word at i in t as
// readWord folds them, zero past the word's end, and false when one of
// them is not ASCII once folded.
func foldedPrefix(t string, i int) (f [3]byte, ok bool) {
	for n := 0; n < len(f) && i < len(t); n++ {
		c := t[i]
		if c < utf8.RuneSelf {
			if !isAlnum(c) {
				break
			}
			f[n] = lower(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(t[i:])
		b := baseLetter(r)
		if b >= utf8.RuneSelf {
			return f, false
		}
		f[n] = byte(b)
		i += size
	}
	return f, true
}

// upperAt reports whether the rune at i in t is upper case.
func upperAt(t string, i int) bool {
	if c := t[i]; c < utf8.RuneSelf {
		return 'A' <= c && c <= 'Z'
	}
	r, _ := utf8.DecodeRuneInString(t[i:])
	return unicode.IsUpper(r)
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
