package redact

import "strings"

// urlCredentials tries the userinfo of a URL whose "://" is at i
// ("postgres://admin:s3cr3t@db:5432"): the span is the userinfo, not the
// URL, so the redacted URL still names its host. The userinfo must hold a
// user and a password ("user:password"), or be a lone token of at least 20
// characters ("https://ghp_…@github.com"); a bare user name
// ("ssh://git@github.com") is not a credential. It returns 0 when there is
// none, else where scanning continues.
func (s *scanner) urlCredentials(i int) int {
	t := s.text
	j := i
	for j > s.floor && isSchemeByte(t[j-1]) {
		j--
	}
	for j < i && class[t[j]] != clsLetter {
		j++
	}
	if i-j < 2 {
		return 0
	}
	a := i + 3
	at := -1
	for e := a; e < len(t) && e-a < 512 && !endsAuthority(t[e]); e++ {
		if t[e] == '@' {
			at = e
		}
	}
	if at <= a || at+1 >= len(t) || endsAuthority(t[at+1]) {
		return 0
	}
	user, pass, ok := strings.Cut(t[a:at], ":")
	if (ok && (user == "" || pass == "")) || (!ok && at-a < 20) {
		return 0
	}
	return s.found(URLCredentials, a, at, 0)
}

func isSchemeByte(c byte) bool {
	return isAlnum(c) || c == '+' || c == '-' || c == '.'
}

// endsAuthority reports whether c ends the authority part of a URL in
// running text: a path, query or fragment, white space, or a quote or
// bracket around the URL.
func endsAuthority(c byte) bool {
	switch c {
	case '/', '?', '#', '<', '>', '"', '\'', '`', '\\', '(', ')', '{', '}', '|':
		return true
	}
	return c <= ' ' || c == 0x7f
}
