package redact_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

var secret = []byte("0123456789abcdef-test-secret")

func newRedactor(t *testing.T, tenant string) *redact.Redactor {
	t.Helper()
	r, err := redact.NewRedactor(secret, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const chat = "Hi, I'm Anna Schmidt (anna.schmidt@example.de, +49 30 12345678). " +
	"Pay DE89 3704 0044 0532 0130 00 or card 4111 1111 1111 1111. " +
	"Login from 203.0.113.45 and 2001:db8::1, repo https://anna:geheim@git.example.org/x. " +
	"Again: Anna.Schmidt@Example.de, +49 30 12345678."

var token = regexp.MustCompile(`<(email|phone|iban|card|ipv4|ipv6|url_credentials|identity):[0-9a-f]{6}>`)

func TestRedactReplacesEveryValue(t *testing.T) {
	r := newRedactor(t, "studio-1")
	out, spans := r.Redact(chat, "Anna Schmidt")
	kinds := map[redact.Kind]int{}
	for _, sp := range spans {
		kinds[sp.Kind]++
		if v := chat[sp.Start:sp.End]; strings.Contains(out, v) {
			t.Errorf("redacted text still contains %s %q:\n%s", sp.Kind, v, out)
		}
		if !token.MatchString(sp.Token) || !strings.HasPrefix(sp.Token, "<"+string(sp.Kind)+":") {
			t.Errorf("span %+v has token %q", sp, sp.Token)
		}
	}
	want := map[redact.Kind]int{
		redact.Identity: 1, redact.Email: 2, redact.Phone: 2, redact.IBAN: 1, redact.Card: 1,
		redact.IPv4: 1, redact.IPv6: 1, redact.URLCredentials: 1,
	}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d spans of kind %s, want %d; out:\n%s", kinds[k], k, n, out)
		}
	}
	// What is left between the tokens is the text around the values.
	if got, want := token.ReplaceAllString(out, "_"), "Hi, I'm _ (_, _). Pay _ or card _. Login from _ and _, repo https://_@git.example.org/x. Again: _, _."; got != want {
		t.Errorf("skeleton:\n got %s\nwant %s", got, want)
	}
}

func TestRedactTokensAreStable(t *testing.T) {
	r := newRedactor(t, "studio-1")
	out1, spans1 := r.Redact(chat, "Anna Schmidt")
	out2, _ := newRedactor(t, "studio-1").Redact(chat, "Anna Schmidt")
	if out1 != out2 {
		t.Errorf("same tenant, same text, different output:\n%s\n%s", out1, out2)
	}
	// The e-mail address and the phone number recur, the address in
	// another case: each gets one token.
	tokens := map[redact.Kind]map[string]bool{}
	for _, sp := range spans1 {
		if tokens[sp.Kind] == nil {
			tokens[sp.Kind] = map[string]bool{}
		}
		tokens[sp.Kind][sp.Token] = true
	}
	for _, k := range []redact.Kind{redact.Email, redact.Phone} {
		if len(tokens[k]) != 1 {
			t.Errorf("%s: tokens %v, want one for the repeated value", k, tokens[k])
		}
	}
	if got, want := r.Pseudonym(redact.Email, "ANNA.SCHMIDT@example.de"), spans1[1].Token; got != want {
		t.Errorf("Pseudonym = %s, want the token Redact gave, %s", got, want)
	}
}

func TestRedactTenantsDiffer(t *testing.T) {
	a, _ := newRedactor(t, "studio-1").Redact(chat, "Anna Schmidt")
	b, _ := newRedactor(t, "studio-2").Redact(chat, "Anna Schmidt")
	ta, tb := token.FindAllString(a, -1), token.FindAllString(b, -1)
	if len(ta) != len(tb) || len(ta) == 0 {
		t.Fatalf("token counts %d and %d", len(ta), len(tb))
	}
	for j := range ta {
		if ta[j] == tb[j] {
			t.Errorf("token %d is %s for both tenants", j, ta[j])
		}
	}
}

func TestPseudonymNormalisation(t *testing.T) {
	r := newRedactor(t, "studio-1")
	for _, tc := range []struct {
		kind redact.Kind
		a, b string
	}{
		{redact.Email, "Anna@Example.DE", "anna@example.de"},
		{redact.Email, "name(at)web.de", "name@web.de"},
		{redact.Phone, "+44 (0)20 7946 0018", "0044 20 7946 0018"},
		{redact.Card, "4111-1111-1111-1111", "4111 1111 1111 1111"},
		{redact.IBAN, "de89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{redact.IPv4, "192.168.001.001", "192.168.1.1"},
		{redact.IPv6, "2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{redact.Identity, "JOSÉ  Álvarez", "jose alvarez"},
	} {
		if pa, pb := r.Pseudonym(tc.kind, tc.a), r.Pseudonym(tc.kind, tc.b); pa != pb {
			t.Errorf("%s: %q → %s but %q → %s", tc.kind, tc.a, pa, tc.b, pb)
		}
	}
	if r.Pseudonym(redact.Email, "a@x.de") == r.Pseudonym(redact.Identity, "a@x.de") {
		t.Error("the same value as two kinds gives the same pseudonym")
	}
}

func TestRedactNothingFound(t *testing.T) {
	r := newRedactor(t, "studio-1")
	text := "Ich schlafe seit 3 Wochen schlecht, Termin am 15.03.2024 um 14:30, kostet 1.299,00 €."
	out, spans := r.Redact(text, "Anna Schmidt", "anna@example.de")
	if out != text || spans != nil {
		t.Fatalf("Redact = %q, %v; want the text unchanged and no spans", out, spans)
	}
	if unsafe.StringData(out) != unsafe.StringData(text) {
		t.Error("Redact returned a copy of a text with nothing to redact")
	}
	if n := testing.AllocsPerRun(100, func() { r.Redact(text, "Anna Schmidt", "anna@example.de") }); n != 0 {
		t.Errorf("Redact allocated %v times on a text with nothing to redact", n)
	}
}

func TestNewRedactorErrors(t *testing.T) {
	if _, err := redact.NewRedactor([]byte("short"), "t"); !errors.Is(err, redact.ErrShortSecret) {
		t.Errorf("short secret: err = %v, want ErrShortSecret", err)
	}
	if _, err := redact.NewRedactor(secret, ""); !errors.Is(err, redact.ErrNoTenant) {
		t.Errorf("empty tenant: err = %v, want ErrNoTenant", err)
	}
}

func TestRedactConcurrent(t *testing.T) {
	r := newRedactor(t, "studio-1")
	want, _ := r.Redact(chat, "Anna Schmidt")
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for range 200 {
				if got, _ := r.Redact(chat, "Anna Schmidt"); got != want {
					errs <- got
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if got := <-errs; got != "" {
			t.Fatalf("concurrent Redact = %q, want %q", got, want)
		}
	}
}
