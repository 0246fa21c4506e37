package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// atEmail tries an e-mail address around the '@' at i: a local part of at
// most 64 characters (letters of any script, digits, . _ % + - and an
// apostrophe between letters, "o'neil") and a domain of at least two
// labels whose last, the top-level domain, is two or more letters.
// Refused: a local part right after "//" (a URL's user, "ssh://git@host"),
// a user@host followed by ":path" (an scp or SSH remote,
// "git@github.com:org/repo"), and a "domain" ending in an image or
// document extension ("logo@2x.png").
func (s *scanner) atEmail(i int) int {
	t := s.text
	lo := max(s.floor, i-256)
	j := i
	for j > lo {
		c := t[j-1]
		if c < utf8.RuneSelf {
			if !isLocalByte(c) && !(c == '\'' && j-1 > lo && isAlnum(t[j-2]) && isAlnum(t[j])) {
				break
			}
			j--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(t[lo:j])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		j -= n
	}
	for j < i && t[j] == '.' {
		j++
	}
	if k := strings.LastIndex(t[j:i], ".."); k >= 0 {
		j += k + 2
	}
	if j == i || i-j > 64 || t[i-1] == '.' || strings.HasSuffix(t[:j], "//") {
		return i + 1
	}
	e, ok := domainEnd(t, i+1)
	if !ok {
		return i + 1
	}
	if e+1 < len(t) && t[e] == ':' && t[e+1] > ' ' {
		return e
	}
	return s.found(Email, j, e, i+1)
}

func isLocalByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// domainEnd reads the domain starting at p and returns its end, or false
// when it is not a domain with a top-level domain.
func domainEnd(t string, p int) (int, bool) {
	labels, end, tld, start := 0, p, p, p
	for p-start <= 253 {
		ls := p
		for p < len(t) {
			c := t[p]
			if c < utf8.RuneSelf {
				if !isAlnum(c) && c != '-' {
					break
				}
				p++
				continue
			}
			r, n := utf8.DecodeRuneInString(t[p:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			p += n
		}
		if p == ls || t[ls] == '-' || t[p-1] == '-' {
			break
		}
		labels, end, tld = labels+1, p, ls
		if p+1 < len(t) && t[p] == '.' && (isAlnum(t[p+1]) || t[p+1] >= utf8.RuneSelf) {
			p++
			continue
		}
		break
	}
	if labels < 2 || end-tld < 2 || end-tld > 63 || end-start > 253 || wordAfter(t, end) {
		return 0, false
	}
	top := t[tld:end]
	if !strings.HasPrefix(top, "xn--") {
		for _, r := range top {
			if !unicode.IsLetter(r) {
				return 0, false
			}
		}
	}
	if isFileExtension(top) {
		return 0, false
	}
	return end, true
}

// isFileExtension reports whether tld is an image or document extension
// that is not a top-level domain in use.
func isFileExtension(tld string) bool {
	for _, ext := range fileExtensions {
		if strings.EqualFold(tld, ext) {
			return true
		}
	}
	return false
}

var fileExtensions = []string{
	"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic",
	"pdf", "doc", "docx", "xls", "xlsx", "txt", "csv",
}
