package redact

import (
	"net/netip"
	"strings"
)

// ipv4 tries the run as a dotted quad. It returns 0 when the run is not
// four dot-separated groups of at most three digits each at most 255 (a
// leading zero only in a zero-padded octet, "192.168.001.001"), so
// the run may still be a phone or card number; otherwise where scanning
// continues: after the address, whether it was recorded or refused as
// loopback, unspecified, a netmask, or a version number ("version
// 1.2.3.4", "build 5.15.0.91").
func (s *scanner) ipv4(r *numRun) int {
	if r.plus || r.n < 4 || (r.n > 4 && r.sep[4] == sepDot) {
		return 0
	}
	t := s.text
	var a [4]byte
	for j := range 4 {
		g := r.g[j]
		if (j > 0 && r.sep[j] != sepDot) || r.paren[j] || g.e-g.s > 3 || (g.e-g.s == 2 && t[g.s] == '0') {
			return 0
		}
		v := 0
		for _, c := range []byte(t[g.s:g.e]) {
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return 0
		}
		a[j] = byte(v)
	}
	end := r.g[3].e
	if wordAfter(t, end) {
		return 0
	}
	addr := netip.AddrFrom4(a)
	if addr.IsLoopback() || addr.IsUnspecified() || isNetmask(a) || versionBefore(t, r.start) {
		return end
	}
	return s.found(IPv4, r.start, end, end)
}

// isNetmask reports whether a is a netmask written as an address
// (255.255.255.0): ones, then zeros, starting with a full first octet.
func isNetmask(a [4]byte) bool {
	if a[0] != 255 {
		return false
	}
	m := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	inv := ^m
	return inv&(inv+1) == 0
}

// versionWords name what a dotted number is when it follows them.
var versionWords = []string{
	"version", "versión", "versão", "versione", "versie", "ver", "v", "build", "release",
	"firmware", "kernel", "section", "abschnitt", "chapter", "kapitel", "article", "artikel",
	"art", "punto", "paragraph", "clause", "cláusula", "ziffer",
}

// versionBefore reports whether the word before start, past spaces and
// one ':' or '.', is one of versionWords.
func versionBefore(t string, start int) bool {
	p := start
	for p > 0 && t[p-1] == ' ' {
		p--
	}
	if p > 0 && (t[p-1] == ':' || t[p-1] == '.') {
		p--
	}
	for p > 0 && t[p-1] == ' ' {
		p--
	}
	e := p
	for p > 0 && wordBefore(t, p) {
		p--
		for p > 0 && t[p]&0xC0 == 0x80 { // back to the start of the rune
			p--
		}
	}
	if e-p > 12 {
		return false
	}
	var buf [12]byte
	w := buf[:e-p]
	for j := range w {
		w[j] = lower(t[p+j])
	}
	for _, v := range versionWords {
		if string(w) == v {
			return true
		}
	}
	return false
}

// ipv6 tries an IPv6 address around the ':' at i: back over at most four
// hex digits to a word start, forward over hex digits, ':' and '.'. It
// returns 0 when there is none, else where scanning continues. The
// unspecified address and loopback are skipped, not recorded. A zone
// ("%eth0") is not part of the address.
func (s *scanner) ipv6(i int) int {
	t := s.text
	j := i
	for j > s.floor && i-j < 4 && isHex(t[j-1]) {
		j--
	}
	if j > 0 && (wordBefore(t, j) || t[j-1] == ':' || t[j-1] == '.') {
		return 0
	}
	e := i
	for e < len(t) && e-j < 46 && (isHex(t[e]) || t[e] == ':' || t[e] == '.') {
		e++
	}
	for e > i+1 && t[e-1] == '.' {
		e--
	}
	if e > i+1 && t[e-1] == ':' && t[e-2] != ':' {
		e--
	}
	if wordAfter(t, e) {
		return 0
	}
	cand := t[j:e]
	// Only a compressed form or eight groups can parse; checking first
	// keeps times ("12:30:45") and MAC addresses away from ParseAddr,
	// whose errors allocate.
	colons := strings.Count(cand, ":")
	if colons < 2 || (!strings.Contains(cand, "::") && colons != 7 && !(colons == 6 && strings.Contains(cand, "."))) {
		return 0
	}
	addr, err := netip.ParseAddr(cand)
	if err != nil || !addr.Is6() {
		return 0
	}
	if addr.IsUnspecified() || addr.IsLoopback() {
		return e
	}
	return s.found(IPv6, j, e, e)
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
