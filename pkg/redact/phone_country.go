package redact

// ccLen returns the length of the ITU-T E.164 country code d starts with,
// or 0 when d starts with none.
func ccLen(d []byte) int {
	if len(d) < 2 {
		return 0
	}
	if d[0] == '1' || d[0] == '7' {
		return 1
	}
	switch int(d[0]-'0')*10 + int(d[1]-'0') {
	case 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66,
		81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98:
		return 2
	case 21, 22, 23, 24, 25, 26, 29, 35, 37, 38, 42, 50, 59, 67, 68, 69,
		85, 87, 88, 96, 97, 99:
		if len(d) >= 3 {
			return 3
		}
	}
	return 0
}

// nsnLength returns the shortest and longest national significant number
// (the digits after the country code, without a trunk '0') of the country
// code cc. Countries not listed get 6 to 12.
func nsnLength(cc string) (lo, hi int) {
	switch cc {
	case "1", "7", "91", "52", "30", "57":
		return 10, 10
	case "33", "31", "34", "41", "48", "351", "420", "40", "61", "27", "212":
		return 9, 9
	case "44":
		return 9, 10
	case "49":
		return 6, 13
	case "43":
		return 4, 13
	case "39":
		return 6, 11
	case "32", "36":
		return 8, 9
	case "353":
		return 7, 9
	case "45", "47", "65", "216", "852":
		return 8, 8
	case "46":
		return 7, 10
	case "358":
		return 5, 12
	case "352":
		return 4, 11
	case "55", "54":
		return 10, 11
	case "86":
		return 8, 11
	case "81":
		return 9, 10
	}
	return 6, 12
}
