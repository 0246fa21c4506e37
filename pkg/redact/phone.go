package redact

import "strings"

// isPhone reports whether the first k groups of r are a phone number:
//
//   - after '+', a valid country code followed by a national number of a
//     length that country uses ("+44 7700 900123", "+33 (0)1 42 68 53 00");
//   - after "00", the same, when the prefix and country code stand as their
//     own group ("0044 7700 900123") or the context names a phone;
//   - a national number in a grouping that countries print: a trunk '0'
//     and 9 to 12 digits (UK, DE, FR, NL, IT, BE, CH, IN: "020 7946 0018",
//     "06 12 34 56 78", "030/1234567", "0612345678"); North American
//     "(415) 555-2671" and "1-800-555-0123"; Spanish and Portuguese
//     "612 345 678", "91 123 45 67"; Italian mobiles "333 1234567"; Indian
//     mobiles "98765 43210";
//   - any consistently grouped 7 to 13 digits after a word that names a
//     phone ("tel", "Handy", "móvil", "bel"), or 8 to 13 after one that
//     names a number ("número", "Nummer"), unless a word naming something
//     else ("order", "Rechnung", "pedido", "Konto") is nearer.
//
// No number ends in a group of one digit ("0612345678 2" is a number and
// a count). National numbers are refused when the context names something
// else, next to a currency or percent sign, and when the groups form a
// date. Separators must be consistent, except that a '/' or '-' after the
// area code may be followed by spaces ("030/123 456").
func (s *scanner) isPhone(r *numRun, k int) bool {
	t := s.text
	n := r.count(k)
	if n < 7 || n > 17 || r.g[k-1].e-r.g[k-1].s < 2 {
		return false
	}
	var buf [24]byte
	if r.plus {
		return international(r.phoneDigits(t, buf[:0], k))
	}
	if looksLikeDate(t, r, k) || currencyAround(t, r.start, r.g[k-1].e) || !consistent(r, k) {
		return false
	}
	d := r.digits(t, buf[:0], 0, k)
	ctx := s.phoneContext(r.start)
	if ctx == ctxOther {
		return false
	}
	if d[0] == '0' && d[1] == '0' {
		if !international(d[2:]) {
			return false
		}
		first := r.g[0].e - r.g[0].s
		return ctx == ctxPhone || (k >= 2 && (first == 2 || first == 2+ccLen(d[2:])))
	}
	switch {
	case ctx == ctxPhone && n <= 13:
		return true
	case ctx == ctxNumber && n >= 8 && n <= 13:
		return true
	}
	return nationalFormat(r, k, d)
}

// phoneDigits appends the digits of the first k groups, leaving out a
// trunk prefix written "(0)".
func (r *numRun) phoneDigits(t string, buf []byte, k int) []byte {
	for j := range k {
		g := r.g[j]
		if r.paren[j] && g.e-g.s == 1 && t[g.s] == '0' {
			continue
		}
		buf = append(buf, t[g.s:g.e]...)
	}
	return buf
}

// international reports whether d (without '+' or "00") is a country code
// and a national number of a plausible length for it.
func international(d []byte) bool {
	cc := ccLen(d)
	if cc == 0 {
		return false
	}
	nsn := d[cc:]
	code := string(d[:cc])
	if len(nsn) > 0 && nsn[0] == '0' && code != "39" {
		nsn = nsn[1:] // "+44 07700 900123": a trunk '0' written by mistake
	}
	lo, hi := nsnLength(code)
	return len(nsn) >= lo && len(nsn) <= hi && cc+len(nsn) <= 15
}

// nationalFormat reports whether the groups are one of the national
// groupings listed on isPhone.
func nationalFormat(r *numRun, k int, d []byte) bool {
	var lens [maxGroups]int
	for j := range k {
		lens[j] = r.g[j].e - r.g[j].s
	}
	l := lens[:k]
	n, f := len(d), d[0]
	is := func(want ...int) bool {
		if len(want) != len(l) {
			return false
		}
		for j := range want {
			if want[j] != l[j] {
				return false
			}
		}
		return true
	}
	switch {
	case f == '0' && n >= 9 && n <= 12:
		if k == 1 {
			return n == 10 || n == 11
		}
		if l[0] < 2 || l[0] > 5 {
			return false
		}
		for _, x := range l[1:] {
			if x < 2 || x > 8 {
				return false
			}
		}
		return true
	case is(3, 3, 4), is(1, 3, 3, 4) && f == '1': // North America, Italian mobiles
		area := d[len(d)-10:]
		return area[0] >= '2' && area[3] >= '2'
	case f >= '6' && (is(3, 3, 3) || is(3, 2, 2, 2) || is(5, 5)): // ES, PT, IN mobiles
		return true
	case (f == '8' || f == '9') && is(2, 3, 2, 2): // Spanish landlines
		return true
	case f == '3' && k == 2 && l[0] == 3 && (l[1] == 6 || l[1] == 7): // Italian mobiles
		return true
	}
	return false
}

// consistent reports whether the first k groups are separated the same
// way throughout, ignoring parentheses, or by one '/' or '-' after the
// area code and spaces after it.
func consistent(r *numRun, k int) bool {
	first := sepNone
	for j := 1; j < k; j++ {
		sep := r.sep[j]
		switch {
		case sep == sepParen:
		case first == sepNone:
			first = sep
		case sep != first && !((first == sepSlash || first == sepDash) && sep == sepSpace):
			return false
		case sep == sepSpace && first != sepSpace:
			first = sepSpace // after "030/123 " only spaces
		}
	}
	return true
}

// looksLikeDate reports whether the run starts with a date written with
// '.', '/' or '-' ("15.03.2024", "2024-03-15", "05/03/24") that is not
// followed by more groups with the same separator.
func looksLikeDate(t string, r *numRun, k int) bool {
	if k < 3 || r.sep[1] != r.sep[2] || (r.sep[1] != sepDot && r.sep[1] != sepSlash && r.sep[1] != sepDash) {
		return false
	}
	if k > 3 && r.sep[3] == r.sep[1] {
		return false
	}
	a, b, c := r.g[0].e-r.g[0].s, r.g[1].e-r.g[1].s, r.g[2].e-r.g[2].s
	return (a <= 2 && b <= 2 && (c == 2 || c == 4)) || (a == 4 && b <= 2 && c <= 2)
}

// currencyAround reports whether a currency or percent sign sits right
// before start or right after end, allowing one space: "€ 1 234 567",
// "912 345 678 €", "12 345 678 %".
func currencyAround(t string, start, end int) bool {
	p := start
	if p > 0 && t[p-1] == ' ' {
		p--
	}
	if before := t[:p]; strings.HasSuffix(before, "€") || strings.HasSuffix(before, "$") || strings.HasSuffix(before, "£") {
		return true
	}
	p = end + spaceAt(t, end)
	if p < len(t) {
		switch {
		case t[p] == '$' || t[p] == '%':
			return true
		case len(t)-p >= 3 && (t[p:p+3] == "€" || t[p:p+3] == "EUR" || t[p:p+3] == "USD"),
			len(t)-p >= 2 && t[p:p+2] == "£":
			return true
		}
	}
	return false
}
