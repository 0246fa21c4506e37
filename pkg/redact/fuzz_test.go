package redact_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// FuzzRedact checks, for any text and known identity, that Redact does
// not panic; that spans are in bounds, sorted and disjoint; that the
// output is the text with each span replaced by its token; and that the
// output no longer contains a detected value. A value that also occurs in
// the text outside every span, or inside a token, legitimately remains
// ("x0612345678" is not a phone number, so "0612345678" stays there).
func FuzzRedact(f *testing.F) {
	for _, seed := range []struct{ text, known string }{
		{chat, "Anna Schmidt"},
		{"call +44 7700 900123 or 07700 900124", ""},
		{"IBAN DE89 3704 0044 0532 0130 00, card 4111-1111-1111-1111", ""},
		{"postgres://admin:s3cr3t@10.0.0.12:5432 and [2001:db8::1]:443", ""},
		{"name(at)web.de, o'neil@eircom.ie, 123@163.com", "o'neil"},
		{"am 15.03.2024 um 14:30, 1.234,56 €, v1.2.3.4, ::1", "x"},
		{"José Álvarez / JOSE ALVAREZ / jose\u00a0alvarez", "José Álvarez"},
		{"\xff\xfe@\xc3(at)\xe2\x80\xaf06 12 34 56 78", "\xc3\xa9"},
	} {
		f.Add(seed.text, seed.known)
	}
	r, err := redact.NewRedactor([]byte("fuzz-secret-0123456789"), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, known string) {
		out, spans := r.Redact(text, known)
		var rebuilt strings.Builder
		var gaps []string
		prev := 0
		for j, sp := range spans {
			if sp.Start < prev || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("span %d %+v out of bounds, overlapping or out of order (previous end %d, len %d)", j, sp, prev, len(text))
			}
			gaps = append(gaps, text[prev:sp.Start])
			rebuilt.WriteString(text[prev:sp.Start])
			rebuilt.WriteString(sp.Token)
			prev = sp.End
		}
		gaps = append(gaps, text[prev:])
		rebuilt.WriteString(text[prev:])
		if out != rebuilt.String() {
			t.Fatalf("output %q is not the text with spans replaced by tokens %q", out, rebuilt.String())
		}
		for _, sp := range spans {
			v := text[sp.Start:sp.End]
			if strings.ContainsAny(v, "<>") || containsAny(gaps, v) || containsToken(spans, v) {
				continue
			}
			if strings.Contains(out, v) {
				t.Fatalf("output %q still contains %s %q", out, sp.Kind, v)
			}
		}
		if len(spans) == 0 && out != text {
			t.Fatalf("no spans but output %q differs from text %q", out, text)
		}
	})
}

func containsAny(texts []string, v string) bool {
	for _, s := range texts {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

func containsToken(spans []redact.Span, v string) bool {
	for _, sp := range spans {
		if strings.Contains(sp.Token, v) {
			return true
		}
	}
	return false
}
