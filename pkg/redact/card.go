package redact

// isCard reports whether the first k groups of r are a payment card number:
// 13 to 19 digits, unseparated or grouped by spaces, dashes or dots the way
// cards print them (fours, Amex 4-6-5, Diners 4-6-4), with the prefix and length
// of a card network, passing the Luhn check. The context is not consulted:
// a number that passes all of this is redacted even after "invoice", since
// leaking a card costs more than hiding an invoice id.
func isCard(t string, r *numRun, k int) bool {
	if r.plus {
		return false
	}
	n := r.count(k)
	if n < 13 || n > 19 {
		return false
	}
	sep := r.sep[1]
	if k > 1 && sep != sepSpace && sep != sepDash && sep != sepDot {
		return false
	}
	var lens [maxGroups]int
	for j := range k {
		if (j > 0 && r.sep[j] != sep) || r.paren[j] {
			return false
		}
		lens[j] = r.g[j].e - r.g[j].s
	}
	if k > 1 && !cardGrouping(lens[:k]) {
		return false
	}
	var buf [maxGroupDigits]byte
	d := r.digits(t, buf[:0], 0, k)
	return cardNetwork(d) && luhn(d)
}

// cardGrouping accepts fours with a shorter last group, and the 4-6-5 and
// 4-6-4 groupings of American Express and Diners Club.
func cardGrouping(lens []int) bool {
	if len(lens) == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4) {
		return true
	}
	for j, l := range lens {
		if l != 4 && (j < len(lens)-1 || l > 4) {
			return false
		}
	}
	return true
}

// cardNetwork reports whether d has the issuer prefix and a length of a
// card network: Visa, Mastercard, American Express, Discover, JCB, Diners
// Club, UnionPay, Maestro or Mir.
func cardNetwork(d []byte) bool {
	n := len(d)
	p := func(l int) int { // the first l digits as a number
		v := 0
		for _, c := range d[:l] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	p2, p3, p4, p6 := p(2), p(3), p(4), p(6)
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		return n >= 16
	case p2 == 62: // UnionPay
		return n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763: // Maestro
		return n >= 13
	case p4 >= 2200 && p4 <= 2204: // Mir
		return n >= 16
	}
	return false
}

// luhn reports whether the digits d pass the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	for j := range d {
		v := int(d[len(d)-1-j] - '0')
		if j%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}
