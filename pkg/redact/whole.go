package redact

import (
	"regexp"
	"strings"
)

// pseudonymRE matches a whole pseudonym as writeToken writes it.
var pseudonymRE = regexp.MustCompile(`^<[a-z][a-z_]*:[0-9a-f]{6}>$`)

// IsPseudonym reports whether s is one pseudonym and nothing else, such as
// "<name:4f9a1c>".
func IsPseudonym(s string) bool { return len(s) <= 40 && pseudonymRE.MatchString(s) }

// Whole returns the pseudonym that replaces value as a whole, for a column
// or JSON path that holds a person's name or contact detail by declaration
// rather than by detection, and true; or value and false when there is
// nothing to replace: a blank value, or one that already is a pseudonym, so
// that a second pass changes nothing.
func (r *Redactor) Whole(kind Kind, value string) (string, bool) {
	if strings.TrimSpace(value) == "" || IsPseudonym(value) {
		return value, false
	}
	return r.Pseudonym(kind, value), true
}
