package redact

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Subject is one person's identities as an erasure looks for them in other
// people's text: the names, e-mail addresses and phone numbers of the
// person being erased. It is built once per request and read-only after.
//
// A name of two words or more is found as written, as "First Last",
// "F. Last" and "Last, First" (first and last word of the name), matched
// as Detect matches known identities: case-insensitively, ignoring the
// diacritics of Latin letters, on word boundaries. A lone first name is
// never enough, and a name of one word is not looked for. An e-mail
// address is found by the e-mail detector and compared lower-cased; a
// phone number by the phone detector, in international or national form,
// and compared by its digits with the person's E.164 number.
type Subject struct {
	names  []personName
	known  []string // every form of every name, for Detect
	emails []string // lower-cased
	phones []string // E.164 digits, without '+'
}

type personName struct {
	full  string   // as stored: what the pseudonym is computed from
	forms []string // the written forms that name the person
}

// Mention is one place in a text that names the person.
type Mention struct {
	Kind       Kind // Name, Email or Phone
	Start, End int  // byte offsets in the text
	// Value is the identity named: the full name, the address or the
	// E.164 number as the person's rows hold it, the same for every form.
	Value string
}

// NewSubject returns the Subject with these names, e-mail addresses and
// E.164 phone numbers; blanks are ignored.
func NewSubject(names, emails, phones []string) *Subject {
	p := &Subject{}
	for _, n := range names {
		words := strings.Fields(n)
		if len(words) < 2 {
			continue
		}
		first, last := words[0], words[len(words)-1]
		initial, _ := utf8.DecodeRuneInString(first)
		pn := personName{full: strings.Join(words, " "), forms: []string{strings.Join(words, " ")}}
		for _, f := range []string{first + " " + last, string(initial) + ". " + last, last + ", " + first} {
			if !containsFold(pn.forms, f) {
				pn.forms = append(pn.forms, f)
			}
		}
		p.names = append(p.names, pn)
		p.known = append(p.known, pn.forms...)
	}
	for _, e := range emails {
		if e = strings.TrimSpace(e); e != "" {
			p.emails = append(p.emails, foldAddress(e))
		}
	}
	for _, ph := range phones {
		if d := string(normalise(nil, Phone, ph)); len(d) >= 7 {
			p.phones = append(p.phones, d)
		}
	}
	return p
}

// Empty reports whether p has nothing to look for.
func (p *Subject) Empty() bool {
	return len(p.names) == 0 && len(p.emails) == 0 && len(p.phones) == 0
}

// Find returns the mentions of p in text, in order, not overlapping; nil
// when there is none.
func (p *Subject) Find(text string) []Mention {
	var out []Mention
	for _, sp := range Detect(text, p.known...) {
		v := text[sp.Start:sp.End]
		var m Mention
		switch sp.Kind {
		case Identity:
			m = Mention{Kind: Name, Value: p.nameOf(v)}
		case Email:
			if a := foldAddress(deobfuscate(v)); slices.Contains(p.emails, a) {
				m = Mention{Kind: Email, Value: a}
			}
		case Phone:
			if e := p.phoneOf(string(normalise(nil, Phone, v))); e != "" {
				m = Mention{Kind: Phone, Value: "+" + e}
			}
		}
		if m.Value == "" {
			continue
		}
		m.Start, m.End = sp.Start, sp.End
		out = append(out, m)
	}
	return out
}

// Replace returns text with each mention of p replaced by token(mention),
// and how many it replaced; PseudonymOf gives a Redactor's pseudonyms. A
// text without mentions is returned as it is.
func (p *Subject) Replace(text string, token func(Mention) string) (string, int) {
	ms := p.Find(text)
	if len(ms) == 0 {
		return text, 0
	}
	var b strings.Builder
	prev := 0
	for _, m := range ms {
		b.WriteString(text[prev:m.Start])
		b.WriteString(token(m))
		prev = m.End
	}
	b.WriteString(text[prev:])
	return b.String(), len(ms)
}

// PseudonymOf returns the token of a mention that r's pseudonym of the
// identity it names ("<name:4f9a1c>"), the same for every form of it.
func (r *Redactor) PseudonymOf(m Mention) string { return r.Pseudonym(m.Kind, m.Value) }

// Excerpt returns the sentence of text around m, with every other
// person's data in it (what r.Redact finds: addresses, numbers, the
// tenant's known people) replaced by pseudonyms, and p's own mentions left
// as written: what an access package shows the person of a text that
// mentions them.
func (p *Subject) Excerpt(r *Redactor, text string, m Mention) string {
	start, end := sentence(text, m.Start, m.End)
	s := text[start:end]
	var b strings.Builder
	prev := 0
	for _, own := range p.Find(s) {
		other, _ := r.Redact(s[prev:own.Start])
		b.WriteString(other)
		b.WriteString(s[own.Start:own.End])
		prev = own.End
	}
	other, _ := r.Redact(s[prev:])
	b.WriteString(other)
	return strings.TrimSpace(b.String())
}

// Needles returns, lower-cased, ASCII strings of which every mention of p
// contains one, for a store to select the rows holding one of them before
// Find looks closer (matching case-insensitively); nil when no such
// strings exist and every row must be read. A name has none: it is found
// with or without diacritics ("Lovelacé" for "Lovelace", "Jose" for
// "José"), so no substring is in each of its forms; nor has a phone
// number, whose digits may be grouped at will ("06 12 34 56 78"). An
// address gives the longest start of a dot-separated piece of its local
// part, which its obfuscated forms keep too ("ada [at] example [dot]
// com"), up to its first 'i' or 'k' (which text may write 'İ' or the
// Kelvin sign, lower-cased to them); an address whose local part is not
// ASCII, or whose pieces all start with 'i' or 'k', gives none.
func (p *Subject) Needles() []string {
	if len(p.names) > 0 || len(p.phones) > 0 {
		return nil
	}
	var out []string
	for _, e := range p.emails {
		local, _, _ := strings.Cut(e, "@")
		best := ""
		for _, piece := range strings.Split(local, ".") {
			if k := strings.IndexAny(piece, "ik"); k >= 0 {
				piece = piece[:k]
			}
			if len(piece) > len(best) {
				best = piece
			}
		}
		if best == "" || !isASCII(local) {
			return nil
		}
		if !slices.Contains(out, best) {
			out = append(out, best)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nameOf returns the full name one of whose forms v is.
func (p *Subject) nameOf(v string) string {
	for _, n := range p.names {
		for _, f := range n.forms {
			if k, ok := foldPrefix(v, f); ok && k == len(v) {
				return n.full
			}
		}
	}
	return ""
}

// phoneOf returns the person's E.164 digits that the digits d of a number
// found in text stand for: the same digits, or a national form whose
// trunk zeros dropped leave the number after a country code of one to
// three digits ("020 7946 0958" for +44 20 7946 0958, "202 555 0142" for
// +1 202 555 0142). "" when none.
func (p *Subject) phoneOf(d string) string {
	national := strings.TrimLeft(d, "0")
	for _, e := range p.phones {
		if d == e {
			return e
		}
		if cc := len(e) - len(national); len(national) >= 7 && cc >= 1 && cc <= 3 && strings.HasSuffix(e, national) {
			return e
		}
	}
	return ""
}

// sentence returns the bounds of the sentence of text holding [start,
// end): from after the last stop ('.', '!' or '?' followed by white space)
// or line break before start, to the next one after end. The period of an
// initial ("A. Lovelace") is no stop.
func sentence(text string, start, end int) (int, int) {
	from := 0
	for i := start - 1; i > 0; i-- {
		if c := text[i]; c == '\n' || ((c == ' ' || c == '\t') && isStop(text, i-1)) {
			from = i + 1
			break
		}
	}
	to := len(text)
	for i := end; i < len(text); i++ {
		if text[i] == '\n' {
			to = i
			break
		}
		if isStop(text, i) && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n') {
			to = i + 1
			break
		}
	}
	return from, to
}

// isStop reports whether text[i] ends a sentence: '!', '?', or a '.' that
// does not follow a lone letter (an initial).
func isStop(text string, i int) bool {
	switch text[i] {
	case '!', '?':
		return true
	case '.':
		initial := i >= 1 && class[text[i-1]] == clsLetter && (i == 1 || text[i-2] == ' ' || text[i-2] == '\n')
		return !initial
	}
	return false
}

// foldAddress lower-cases an e-mail address as stores match addresses
// (dsr.FoldEmail).
func foldAddress(s string) string { return strings.ReplaceAll(strings.ToLower(s), "ς", "σ") }

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
