package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// indexKnown marks the first bytes, in every case, of the known
// identities, so the main loop looks for them only at those bytes. It runs
// on every call, so the common case, an ASCII first letter, is cheap.
func (s *scanner) indexKnown(known []string) {
	for _, k := range known {
		k = strings.TrimSpace(k)
		if len(k) < 2 {
			continue
		}
		if c := k[0]; c < utf8.RuneSelf {
			s.first[lower(c)], s.first[upper(c)] = true, true
			if class[c] == clsLetter {
				// "Élodie" in the text for "Elodie", and the Kelvin sign
				// for 'k': the lead bytes of the letters that fold to or
				// share a base with an ASCII letter.
				s.first[0xC3], s.first[0xC4], s.first[0xC5], s.first[0xE2] = true, true, true, true
			}
			continue
		}
		r, _ := utf8.DecodeRuneInString(k)
		f := r
		for {
			var b [utf8.UTFMax]byte
			utf8.EncodeRune(b[:], f)
			s.first[b[0]] = true
			if f = unicode.SimpleFold(f); f == r {
				break
			}
		}
		if b := baseLetter(r); 'a' <= b && b <= 'z' {
			// "Élodie" for "Elodie" and the reverse: the base letter in
			// both cases, and the lead bytes of the accented Latin letters.
			s.first[b], s.first[b-'a'+'A'] = true, true
			s.first[0xC3], s.first[0xC4], s.first[0xC5] = true, true, true
		}
	}
}

// identity tries the known identities at the word start i, keeps the
// longest that ends on a word boundary, and returns where scanning
// continues, or 0. Scanning continues inside the identity, not after it:
// a known e-mail address or phone number is also found by its own
// detector, whose span of the same length is more specific.
func (s *scanner) identity(i int, known []string) int {
	t := s.text
	best := 0
	for _, k := range known {
		k = strings.TrimSpace(k)
		if n, ok := foldPrefix(t[i:], k); ok && n > best && !wordAfter(t, i+n) && utf8.RuneCountInString(k) >= 2 {
			best = n
		}
	}
	if best == 0 {
		return 0
	}
	if !s.add(Span{Kind: Identity, Start: i, End: i + best}) {
		return 0
	}
	_, n := utf8.DecodeRuneInString(t[i:])
	return i + n
}

// foldPrefix reports whether t starts with pat under Unicode simple case
// folding and ignoring the diacritics of Latin letters ("Jose Alvarez" is
// "José Álvarez"), with any run of white space and hyphens in pat
// matching any non-empty such run in t ("Anna Lena" is "Anna-Lena"), and
// returns the length of the match in t.
func foldPrefix(t, pat string) (int, bool) {
	i, j := 0, 0
	for j < len(pat) {
		if w := separatorWidth(pat, j); w > 0 {
			for w > 0 {
				j += w
				w = separatorWidth(pat, j)
			}
			n := separatorWidth(t, i)
			if n == 0 {
				return 0, false
			}
			for n > 0 {
				i += n
				n = separatorWidth(t, i)
			}
			continue
		}
		if i >= len(t) {
			return 0, false
		}
		pc, tc := pat[j], t[i]
		if pc < utf8.RuneSelf && tc < utf8.RuneSelf {
			if lower(pc) != lower(tc) {
				return 0, false
			}
			i, j = i+1, j+1
			continue
		}
		pr, pn := utf8.DecodeRuneInString(pat[j:])
		tr, tn := utf8.DecodeRuneInString(t[i:])
		if !foldEqual(pr, tr) && baseLetter(pr) != baseLetter(tr) {
			return 0, false
		}
		i, j = i+tn, j+pn
	}
	return i, true
}

// separatorWidth returns the width of a white-space character or hyphen
// at p, or 0.
func separatorWidth(t string, p int) int {
	if p >= len(t) {
		return 0
	}
	switch t[p] {
	case '\t', '\n', '\r', '-':
		return 1
	}
	return spaceAt(t, p)
}

// foldEqual reports whether a and b are equal under simple case folding.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// baseLetter returns r lower-cased, without its diacritic if it is an
// accented Latin letter: 'É' and 'é' give 'e', 'ł' gives 'l'.
func baseLetter(r rune) rune {
	if r >= 0 && int(r) < len(latinTable) {
		return latinTable[r]
	}
	// Past Latin Extended-A, whose lower case may fall within it
	// (the Angstrom sign is å, so a).
	if r = unicode.ToLower(r); r >= 0 && int(r) < len(latinTable) {
		return latinTable[r]
	}
	return r
}

// latinTable is baseLetter of the runes below U+0180 (Latin-1 and Latin
// Extended-A, which latinBase covers), without a look-up in a map.
var latinTable = func() (t [0x180]rune) {
	for r := range t {
		l := unicode.ToLower(rune(r))
		if b, ok := latinBase[l]; ok {
			l = b
		}
		t[r] = l
	}
	return t
}()

// latinBase maps the accented letters of Latin-1 and Latin Extended-A to
// their base letter; each string lists a base letter, then its variants.
var latinBase = func() map[rune]rune {
	m := map[rune]rune{}
	for _, row := range []string{
		"aàáâãäåāăą", "cçćĉċč", "dďđ", "eèéêëēĕėęě", "gĝğġģ", "hĥħ", "iìíîïĩīĭįı",
		"jĵ", "kķ", "lĺļľŀł", "nñńņňŉ", "oòóôõöøōŏő", "rŕŗř", "sśŝşš", "tţťŧ",
		"uùúûüũūŭůűų", "wŵ", "yýÿŷ", "zźżž",
	} {
		base, _ := utf8.DecodeRuneInString(row)
		for _, r := range row[1:] {
			m[r] = base
		}
	}
	return m
}()
