package redact

// iban tries an IBAN at the word start i: a country code, two check
// digits and the country's length of letters and digits, ending on a word
// boundary, whose mod-97 checksum holds. After the first four characters
// any character may be preceded by one space, so the printed groups of
// four ("DE89 3704 0044 0532 0130 00"), the unspaced form, and groupings
// by the national account fields ("FR76 30006 00001 12345678901 89") are
// all read; the checksum keeps this from joining unrelated words. Letters
// may be in either case. It returns 0 when there is none, else where
// scanning continues.
func (s *scanner) iban(i int) int {
	t := s.text
	length := ibanLength(upper(t[i]), upper(t[i+1]))
	if length == 0 {
		return 0
	}
	var buf [34]byte
	m, p := 0, i
	for m < length {
		if m >= 4 {
			p += spaceAt(t, p)
		}
		if p >= len(t) || !isAlnum(t[p]) {
			return 0
		}
		buf[m] = upper(t[p])
		m, p = m+1, p+1
	}
	if wordAfter(t, p) || !ibanChecksum(buf[:length]) {
		return 0
	}
	return s.found(IBAN, i, p, 0)
}

// ibanChecksum reports whether the IBAN b, upper-cased, has remainder 1
// modulo 97 once its first four characters are moved to the end and its
// letters replaced by 10 to 35.
func ibanChecksum(b []byte) bool {
	r := 0
	for j := range b {
		c := b[(j+4)%len(b)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r == 1
}

// ibanLength returns the length of the IBANs of the country a b, or 0
// when the country issues none. From the SWIFT IBAN registry.
func ibanLength(a, b byte) int {
	return ibanLengths[string([]byte{a, b})]
}

var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}
