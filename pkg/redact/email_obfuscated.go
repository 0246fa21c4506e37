package redact

import "strings"

// obfuscatedEmail tries an e-mail address written to escape harvesters
// around the bracket at i: "name(at)web.de", "anna.schmidt [at] gmx [dot]
// de", "name(at)example(dot)com". The marker is "(at)" or "[at]" in any
// case, optionally between spaces; labels are separated by '.' or by
// "(dot)" or "[dot]". The spelled-out "anna at gmail dot com" is not
// read: " at " is too common in prose. It returns 0 when there is none,
// else where scanning continues.
func (s *scanner) obfuscatedEmail(i int) int {
	t := s.text
	n := bracketWord(t, i, "at")
	if n == 0 {
		return 0
	}
	le := i
	if le > s.floor && t[le-1] == ' ' {
		le--
	}
	j := le
	for j > s.floor && le-j < 64 && isLocalByte(t[j-1]) {
		j--
	}
	for j < le && t[j] == '.' {
		j++
	}
	if j == le || t[le-1] == '.' || wordBefore(t, j) {
		return 0
	}
	p := i + n
	if p < len(t) && t[p] == ' ' {
		p++
	}
	labels, end, tld := 0, p, p
	for {
		ls := p
		for p < len(t) && (isAlnum(t[p]) || t[p] == '-') {
			p++
		}
		if p == ls || t[ls] == '-' || t[p-1] == '-' {
			break
		}
		labels, end, tld = labels+1, p, ls
		if p+1 < len(t) && t[p] == '.' && isAlnum(t[p+1]) {
			p++
			continue
		}
		q := p
		if q < len(t) && t[q] == ' ' {
			q++
		}
		if m := bracketWord(t, q, "dot"); m > 0 {
			q += m
			if q < len(t) && t[q] == ' ' {
				q++
			}
			if q < len(t) && isAlnum(t[q]) {
				p = q
				continue
			}
		}
		break
	}
	if labels < 2 || end-tld < 2 || wordAfter(t, end) {
		return 0
	}
	for _, c := range []byte(t[tld:end]) {
		if class[c] != clsLetter {
			return 0
		}
	}
	return s.found(Email, j, end, 0)
}

// bracketWord returns the length of word between '(' and ')' or '[' and
// ']' at i, in any case, or 0.
func bracketWord(t string, i int, word string) int {
	if i >= len(t) || (t[i] != '(' && t[i] != '[') {
		return 0
	}
	closing := byte(')')
	if t[i] == '[' {
		closing = ']'
	}
	e := i + 1 + len(word)
	if e >= len(t) || t[e] != closing || !strings.EqualFold(t[i+1:e], word) {
		return 0
	}
	return len(word) + 2
}

// deobfuscate rewrites an address found by obfuscatedEmail in its plain
// form, so both forms of an address get the same pseudonym.
func deobfuscate(v string) string {
	if strings.IndexByte(v, '@') >= 0 {
		return v
	}
	v = strings.ReplaceAll(v, " ", "")
	for _, m := range []struct{ from, to string }{{"(at)", "@"}, {"[at]", "@"}, {"(dot)", "."}, {"[dot]", "."}} {
		for {
			k := strings.Index(strings.ToLower(v), m.from)
			if k < 0 {
				break
			}
			v = v[:k] + m.to + v[k+len(m.from):]
		}
	}
	return v
}
