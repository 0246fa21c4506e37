package redact

// Kind names a detector and the kind of value it finds. Its string form is
// the one used in pseudonyms ("<email:4f9a1c>"), in the corpus and in the
// benchmark lines.
type Kind string

// The kinds of value Detect finds.
const (
	Email          Kind = "email"           // an e-mail address
	Phone          Kind = "phone"           // a phone number, international or national
	IBAN           Kind = "iban"            // an IBAN whose mod-97 checksum holds
	Card           Kind = "card"            // a payment card number passing Luhn with a card prefix
	IPv4           Kind = "ipv4"            // an IPv4 address other than loopback, 0.0.0.0 or a netmask
	IPv6           Kind = "ipv6"            // an IPv6 address other than :: and ::1
	URLCredentials Kind = "url_credentials" // the user:password of a URL
	Identity       Kind = "identity"        // one of the subject's known identities given by the caller
	// Name is the kind of a person's name replaced whole, as in a column
	// the registry declares user.name; it is normalised as Identity is.
	Name Kind = "name"
)

// Kinds returns every Kind, most specific first: the order in which the
// benchmark reports them and in which ties between overlapping spans of the
// same length are broken.
func Kinds() []Kind {
	return []Kind{URLCredentials, Email, IBAN, Card, IPv6, IPv4, Phone, Identity}
}

// rank orders kinds by specificity for spans of equal length: a value that
// is both a known identity and an e-mail address is reported as an e-mail,
// since the checks behind the structural kinds say more about it.
func (k Kind) rank() int {
	switch k {
	case URLCredentials:
		return 7
	case Email:
		return 6
	case IBAN:
		return 5
	case Card:
		return 4
	case IPv6:
		return 3
	case IPv4:
		return 2
	case Phone:
		return 1
	}
	return 0
}

// Span is one value found in a text.
type Span struct {
	Kind  Kind
	Start int // byte offset of the value's first byte in the input
	End   int // byte offset just past the value's last byte
	// Token is the pseudonym that replaced the value ("<email:4f9a1c>"); it
	// is set by Redactor.Redact and empty in spans returned by Detect.
	Token string
	// value, when set, is what the pseudonym is computed from instead of
	// the text of the span: a known person's full name.
	value string
}

// better reports whether s should replace o when they overlap: the longer
// span wins, and between spans of equal length the more specific kind.
func (s Span) better(o Span) bool {
	if l, m := s.End-s.Start, o.End-o.Start; l != m {
		return l > m
	}
	return s.Kind.rank() > o.Kind.rank()
}
