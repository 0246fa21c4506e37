package dsr

import (
	"net/mail"
	"strings"
)

// maxEmailLen is the longest address SMTP allows (RFC 5321 §4.5.3.1.3).
const maxEmailLen = 254

// NormalizeEmail trims an address and lower-cases its domain, the part that
// is case-insensitive everywhere. The local part keeps its case; stores are
// matched case-insensitively on the whole address anyway. It returns an
// EUNPROCESSABLE *Error for an address that is empty, too long, carries a
// display name or comment, or lacks a dotted domain. The message never
// repeats the address.
func NormalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", Errorf(EUNPROCESSABLE, "email: required")
	}
	if len(s) > maxEmailLen {
		return "", Errorf(EUNPROCESSABLE, "email: longer than %d characters", maxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", Errorf(EUNPROCESSABLE, "email: not a plain address such as name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.ContainsAny(domain, "[]") {
		return "", Errorf(EUNPROCESSABLE, "email: the domain must be a name such as example.com")
	}
	return local + "@" + domain, nil
}

// FoldEmail is the case folding under which Lethe matches addresses: Go's
// per-rune simple lower-case mapping (strings.ToLower), the same for every
// script (ÄRGER → ärger, İ → i, ДМИТРИЙ → дмитрий), with the Greek final
// sigma ς folded to σ as Unicode case folding does (ΟΔΥΣΣΕΥΣ and
// οδυσσευς are one address). Every store must fold stored addresses
// identically, or refuse to match: one whose lower() disagrees would find
// nothing, and an erasure would be certified while rows remain. A dotless
// ı stays ı: ılgın and ilgin are different addresses.
func FoldEmail(email string) string {
	return strings.ReplaceAll(strings.ToLower(email), "ς", "σ")
}
