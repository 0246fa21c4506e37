package redact

// Numbers: a run of digit groups read once at a numeric anchor, then tried
// as an IPv4 address, a card number and a phone number.

const (
	maxGroups      = 10 // "+33 (0)6 12 34 56 78" has 7
	maxGroupDigits = 19 // the longest card number; longer digit runs are ids
)

// sepKind is what separates two digit groups.
type sepKind uint8

const (
	sepNone  sepKind = iota
	sepSpace         // ' ', no-break space or narrow no-break space
	sepDash          // '-', with or without a space on either side
	sepDot           // '.'
	sepSlash         // '/', with or without a space on either side
	sepParen         // the separator opens or closes parentheses: "(0)20", "(415) 555"
)

type group struct{ s, e int } // byte range of a group's digits

// numRun is a run of digit groups.
type numRun struct {
	start int  // '+', '(' or the first digit
	plus  bool // the run starts with '+'
	n     int  // groups read
	g     [maxGroups]group
	sep   [maxGroups]sepKind // sep[k] separates group k-1 from group k; sep[0] is sepNone
	paren [maxGroups]bool    // group k is enclosed in parentheses
	skip  int                // end of a digit run too long to be anything, when n == 0
}

// parseRun reads the digit groups starting at i, which holds a digit, '+'
// or '('. The run ends at anything that is not a separator followed by a
// digit, at unbalanced parentheses, and before a digit run longer than
// maxGroupDigits.
func parseRun(t string, i int) (r numRun) {
	r.start = i
	p := i
	if t[p] == '+' {
		r.plus = true
		p++
	}
	open := p < len(t) && t[p] == '('
	if open {
		p++
	}
	for r.n < maxGroups {
		q := p
		for q < len(t) && isDigit(t[q]) {
			q++
		}
		if q == p {
			return r
		}
		if q-p > maxGroupDigits {
			if r.n == 0 {
				r.skip = q
			}
			return r
		}
		closed := false
		if open {
			if q >= len(t) || t[q] != ')' {
				return r
			}
			closed, open = true, false
		}
		r.g[r.n] = group{p, q}
		r.paren[r.n] = closed
		r.n++
		if closed {
			q++
		}
		kind, next, opens := parseSep(t, q, closed)
		if kind == sepNone || r.n == maxGroups {
			return r
		}
		r.sep[r.n] = kind
		open = opens
		p = next
	}
	return r
}

// parseSep reads the separator at p, after a group (and after its closing
// parenthesis when closed). It returns sepNone unless a digit follows.
func parseSep(t string, p int, closed bool) (kind sepKind, next int, opens bool) {
	start := p
	if closed {
		kind = sepParen
	}
	sp := spaceAt(t, p)
	p += sp
	if sp > 0 && kind == sepNone {
		kind = sepSpace
	}
	if p < len(t) {
		switch c := t[p]; c {
		case '-', '/':
			p++
			if kind != sepParen {
				kind = sepDash
				if c == '/' {
					kind = sepSlash
				}
			}
			p += spaceAt(t, p)
		case '.':
			if sp > 0 {
				return sepNone, start, false
			}
			p++
			if kind != sepParen {
				kind = sepDot
			}
		}
	}
	if p < len(t) && t[p] == '(' {
		kind, opens = sepParen, true
		p++
	}
	if p >= len(t) || !isDigit(t[p]) || (p == start && !closed) {
		return sepNone, start, false
	}
	return kind, p, opens
}

// spaceAt returns the width of a space, no-break space (U+00A0) or narrow
// no-break space (U+202F) at p, or 0.
func spaceAt(t string, p int) int {
	switch {
	case p >= len(t):
		return 0
	case t[p] == ' ':
		return 1
	case t[p] == 0xC2 && p+1 < len(t) && t[p+1] == 0xA0:
		return 2
	case t[p] == 0xE2 && p+2 < len(t) && t[p+1] == 0x80 && t[p+2] == 0xAF:
		return 3
	}
	return 0
}

// digits appends the digits of groups [from, to) to buf.
func (r *numRun) digits(t string, buf []byte, from, to int) []byte {
	for k := from; k < to; k++ {
		buf = append(buf, t[r.g[k].s:r.g[k].e]...)
	}
	return buf
}

// count returns the number of digits in the first k groups.
func (r *numRun) count(k int) int {
	n := 0
	for _, g := range r.g[:k] {
		n += g.e - g.s
	}
	return n
}

// number tries the run at i as an IPv4 address, then each prefix of its
// groups, longest first, as a card and a phone number. A prefix is cut
// only at a space, so "0612345678 2" can yield the phone but "2024-03-15"
// cannot yield "2024". On failure scanning resumes after the first group,
// where the next group may start a number of its own ("2 0612345678"),
// unless that group has four digits or more: then the run is one long
// number, such as the tail of a mistyped IBAN or a tracking number, and no
// part of it is read again.
func (s *scanner) number(i int) int {
	t := s.text
	r := parseRun(t, i)
	if r.n == 0 {
		return max(r.skip, i+1)
	}
	if e := s.ipv4(&r); e > 0 {
		return e
	}
	for k := r.n; k >= 1; k-- {
		if k < r.n && r.sep[k] != sepSpace {
			continue
		}
		end := r.g[k-1].e
		if wordAfter(t, end) || (end < len(t) && t[end] == '@') { // "0612345678@qq.com" is an address
			continue
		}
		if isCard(t, &r, k) {
			return s.found(Card, r.start, end, r.g[0].e)
		}
		if s.isPhone(&r, k) {
			return s.found(Phone, r.start, end, r.g[0].e)
		}
	}
	if r.g[0].e-r.g[0].s >= 4 {
		return r.g[r.n-1].e
	}
	return r.g[0].e
}
