package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// MinSecretLen is the shortest secret NewRedactor accepts. Pseudonyms are
// only as hard to reverse as the secret is to guess: with a known secret,
// anyone can hash candidate e-mail addresses and compare.
const MinSecretLen = 16

// Errors returned by NewRedactor.
var (
	ErrShortSecret = errors.New("redact: secret too short")
	ErrNoTenant    = errors.New("redact: empty tenant")
)

// Redactor replaces the values Detect finds with pseudonyms keyed to one
// tenant. It is safe for concurrent use.
type Redactor struct {
	key  [sha256.Size]byte // HMAC-SHA256(secret, "redact\x00" + tenant)
	macs sync.Pool         // of hash.Hash: HMAC-SHA256 keyed with key
	// people is the tenant's dictionary of known people, nil until set.
	people atomic.Pointer[People]
}

// SetPeople makes Redact find the names of p (nil: none) in every text,
// without the caller listing them; it replaces the previous dictionary.
func (r *Redactor) SetPeople(p *People) { r.people.Store(p) }

// People returns the dictionary SetPeople set, or nil.
func (r *Redactor) People() *People { return r.people.Load() }

// NewRedactor returns the Redactor of tenant, whose key is derived from
// secret as HMAC-SHA256(secret, "redact\x00"+tenant): the same secret and
// tenant always give the same pseudonyms, two tenants give unrelated ones.
// It returns ErrShortSecret when secret is shorter than MinSecretLen bytes
// and ErrNoTenant when tenant is empty.
func NewRedactor(secret []byte, tenant string) (*Redactor, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrShortSecret, len(secret), MinSecretLen)
	}
	if tenant == "" {
		return nil, ErrNoTenant
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("redact\x00"))
	m.Write([]byte(tenant))
	r := &Redactor{}
	m.Sum(r.key[:0])
	r.macs.New = func() any { return hmac.New(sha256.New, r.key[:]) }
	return r, nil
}

// Redact returns text with each value Detect(text, known...) finds
// replaced by its pseudonym, and the spans, whose offsets are in text and
// whose Token is the pseudonym. When nothing is found it returns text
// itself, not a copy, and nil.
//
// A pseudonym is "<kind:hhhhhh>", the first six hex digits of
// HMAC-SHA256(tenant key, kind + "\x00" + normalised value), so a value
// reads the same wherever it recurs within a tenant; see Pseudonym for
// the normalisation. Six hex digits are 24 bits: distinct values of one
// kind can share a pseudonym, which is one in about 4,000 for a tenant
// with a hundred addresses.
func (r *Redactor) Redact(text string, known ...string) (string, []Span) {
	people := r.people.Load()
	spans, hits := detect(text, known, people)
	if len(hits) > 0 {
		spans = mergeSpans(spans, people.find(text, hits))
	}
	if len(spans) == 0 {
		return text, nil
	}
	mac := r.macs.Get().(hash.Hash)
	defer r.macs.Put(mac)
	var b strings.Builder
	b.Grow(len(text) + 16*len(spans))
	prev := 0
	for _, sp := range spans {
		b.WriteString(text[prev:sp.Start])
		v := text[sp.Start:sp.End]
		if sp.value != "" {
			v = sp.value
		}
		writeToken(&b, mac, sp.Kind, v)
		prev = sp.End
	}
	b.WriteString(text[prev:])
	out := b.String()
	shift := 0
	for j := range spans {
		sp := &spans[j]
		n := tokenLen(sp.Kind)
		sp.Token = out[sp.Start+shift : sp.Start+shift+n]
		shift += n - (sp.End - sp.Start)
		sp.value = ""
	}
	return out, spans
}

// Pseudonym returns the pseudonym Redact gives value as a kind, so an
// application can find "<email:4f9a1c>" for a subject it knows. Values
// are normalised first: e-mail addresses lower-cased; phone and card
// numbers reduced to their digits, with a phone's "00" international
// prefix and "(0)" trunk dropped so "+44 (0)20 7946 0018" and
// "0044 20 7946 0018" agree (a national form such as "020 7946 0018"
// still differs); IBANs upper-cased without spaces; IP addresses in
// canonical form; identities lower-cased without diacritics, with white
// space and hyphens collapsed; URL
// credentials as they are.
func (r *Redactor) Pseudonym(kind Kind, value string) string {
	mac := r.macs.Get().(hash.Hash)
	defer r.macs.Put(mac)
	var b strings.Builder
	writeToken(&b, mac, kind, value)
	return b.String()
}

func tokenLen(k Kind) int { return len("<:>") + len(k) + 6 }

func writeToken(b *strings.Builder, mac hash.Hash, k Kind, value string) {
	var buf [128]byte
	msg := append(buf[:0], k...)
	msg = append(msg, 0)
	msg = normalise(msg, k, value)
	mac.Reset()
	mac.Write(msg)
	sum := mac.Sum(buf[:0])
	var h [6]byte
	hex.Encode(h[:], sum[:3])
	b.WriteByte('<')
	b.WriteString(string(k))
	b.WriteByte(':')
	b.Write(h[:])
	b.WriteByte('>')
}

// normalise appends the form of value that its pseudonym is computed from.
func normalise(buf []byte, k Kind, v string) []byte {
	switch k {
	case Email:
		return appendLower(buf, deobfuscate(v), false)
	case Identity, Name:
		return appendLower(buf, v, true)
	case Phone:
		v = strings.ReplaceAll(v, "(0)", "")
		start := len(buf)
		for j := 0; j < len(v); j++ {
			if isDigit(v[j]) {
				buf = append(buf, v[j])
			}
		}
		if len(buf)-start > 2 && buf[start] == '0' && buf[start+1] == '0' {
			buf = append(buf[:start], buf[start+2:]...)
		}
		return buf
	case Card:
		for j := 0; j < len(v); j++ {
			if isDigit(v[j]) {
				buf = append(buf, v[j])
			}
		}
		return buf
	case IBAN:
		for j := 0; j < len(v); j++ {
			if isAlnum(v[j]) {
				buf = append(buf, upper(v[j]))
			}
		}
		return buf
	case IPv4:
		// Octets as numbers, so the zero-padded "192.168.001.001" and
		// "192.168.1.1" agree.
		for j, o := range strings.Split(v, ".") {
			if j > 0 {
				buf = append(buf, '.')
			}
			n, _ := strconv.Atoi(o)
			buf = strconv.AppendInt(buf, int64(n), 10)
		}
		return buf
	case IPv6:
		if a, err := netip.ParseAddr(v); err == nil {
			return a.AppendTo(buf)
		}
	}
	return append(buf, v...)
}

// appendLower appends v lower-cased. For an identity, runs of white space
// and hyphens collapse to one space and Latin letters lose their
// diacritics, as when identities are matched.
func appendLower(buf []byte, v string, identity bool) []byte {
	space := false
	for _, r := range v {
		if identity && (unicode.IsSpace(r) || r == '-') {
			space = true
			continue
		}
		if space {
			buf = append(buf, ' ')
			space = false
		}
		if identity {
			r = baseLetter(r)
		} else {
			r = unicode.ToLower(r)
		}
		buf = utf8.AppendRune(buf, r)
	}
	return buf
}

// mergeSpans adds to the detectors' spans the names that overlap none of
// them (an e-mail address holding a name stays an e-mail address), in
// order.
func mergeSpans(spans, names []Span) []Span {
	if len(names) == 0 {
		return spans
	}
	out := make([]Span, 0, len(spans)+len(names))
	i := 0
	for _, n := range names {
		for i < len(spans) && spans[i].End <= n.Start {
			out = append(out, spans[i])
			i++
		}
		if i < len(spans) && spans[i].Start < n.End {
			continue
		}
		if len(out) > 0 && out[len(out)-1].End > n.Start {
			continue
		}
		out = append(out, n)
	}
	return append(out, spans[i:]...)
}
