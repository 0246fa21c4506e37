package redact

import "strings"

// phoneCtx is what the words before a number say it is.
type phoneCtx uint8

const (
	ctxNone   phoneCtx = iota
	ctxPhone           // a word naming a phone is nearest ("tel", "Handy", "móvil")
	ctxNumber          // a word naming a number ("número", "Nummer"), and none naming something else
	ctxOther           // a word naming something else ("order", "Rechnung", "pedido") is nearest
)

// contextWindow is how many bytes before a number are read for context.
const contextWindow = 40

type keyword struct {
	w     string // lower case; matched at the start of a word
	whole bool   // must also end a word
	cat   int    // phoneWord, numberWord or otherWord
}

// Words are matched as word prefixes, so "tel" covers "Tel.", "Telefon",
// "teléfono" and "telefoon", and "kunden" covers "Kundennummer"; a word
// ending in '$' must also end a word ("bel" but not "Belgium").
var (
	phoneWords = []string{
		"tel", "tél", "phone", "call", "mobil", "mobiel", "móvil", "cell",
		"ring", "text me", "sms", "whatsapp", "fax", "dial", "reach me", "handy",
		"ruf", "anruf", "festnetz", "portable", "appel", "joindre", "llam", "llám",
		"fijo", "liga", "ligue", "bel$", "bellen", "belt$", "gsm", "chiam",
		"ph$",
	}
	numberWords = []string{
		"num", "número", "nummer", "nr$",
	}
	otherWords = []string{
		"order", "bestel", "commande", "pedido", "ordine", "encomenda", "invoice", "rechnung",
		"factu", "fattura", "fatura", "nota fiscal", "ref", "réf", "tracking", "sendung",
		"colis", "paket", "isbn", "ean$", "imei", "ticket", "kunden", "customer",
		"client", "konto", "account", "compte", "cuenta", "rekening", "conto", "blz",
		"iban", "matrikel", "aktenzeichen", "serial", "serie", "série", "plz", "postcode",
		"code postal", "timestamp", "id$", "pin$", "transaction", "transaktion", "booking", "buchung",
		"reserva", "vat$", "ust", "tax", "steuer", "siret", "nif$", "btw",
		"kvk", "policy", "police", "póliza", "vertrag", "contrat", "contract", "article",
		"artikel",
	}
)

// phoneContext reads the words in the contextWindow bytes before start.
func (s *scanner) phoneContext(start int) phoneCtx {
	from := max(0, start-contextWindow)
	var buf [contextWindow]byte
	w := buf[:start-from]
	for j := range w {
		w[j] = lower(s.text[from+j])
	}
	// A word naming a phone or a number speaks of this number only if no
	// other number stands between them ("part number AB12 3456 7890").
	names := func(end int) bool {
		for _, c := range w[max(end, 0):] {
			if isDigit(c) {
				return false
			}
		}
		return end >= 0
	}
	var last [3]int // end of the nearest word of each category, or -1
	last[phoneWord], last[numberWord], last[otherWord] = -1, -1, -1
	for p := len(w) - 1; p >= 0; p-- {
		if wordBefore(s.text, from+p) {
			continue
		}
		for _, k := range keywordsByFirst[w[p]] {
			e := p + len(k.w)
			if last[k.cat] >= 0 || e > len(w) || string(w[p:e]) != k.w || (k.whole && wordAfter(s.text, from+e)) {
				continue
			}
			last[k.cat] = e
		}
		if last[phoneWord] >= 0 && last[otherWord] >= 0 {
			break
		}
	}
	phone, other := last[phoneWord], last[otherWord]
	switch {
	case phone > other && names(phone):
		return ctxPhone
	case other >= 0:
		return ctxOther
	case names(last[numberWord]):
		return ctxNumber
	}
	return ctxNone
}

// Categories of context words.
const (
	phoneWord = iota
	numberWord
	otherWord
)

// keywordsByFirst indexes the context words by their first byte.
var keywordsByFirst = func() (t [256][]keyword) {
	for cat, words := range [][]string{phoneWord: phoneWords, numberWord: numberWords, otherWord: otherWords} {
		for _, w := range words {
			k := keyword{w: strings.TrimSuffix(w, "$"), whole: strings.HasSuffix(w, "$"), cat: cat}
			t[w[0]] = append(t[w[0]], k)
		}
	}
	return t
}()
