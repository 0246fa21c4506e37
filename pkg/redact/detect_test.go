package redact_test

import (
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// detectCase is a text, the subject's known identities, and the values
// Detect must find, written "kind:value" in order.
type detectCase struct {
	name  string
	text  string
	known []string
	want  []string
}

func runDetect(t *testing.T, cases []detectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, sp := range redact.Detect(tc.text, tc.known...) {
				got = append(got, string(sp.Kind)+":"+tc.text[sp.Start:sp.End])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Detect(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestDetectEmail(t *testing.T) {
	runDetect(t, []detectCase{
		{"plain", "write to anna.schmidt@example.de today", nil, []string{"email:anna.schmidt@example.de"}},
		{"sentence end", "Mail: j.dupont@orange.fr.", nil, []string{"email:j.dupont@orange.fr"}},
		{"subaddress", "pieter+studio@kpnmail.nl", nil, []string{"email:pieter+studio@kpnmail.nl"}},
		{"angle brackets", "Lena <lena@web.de>", nil, []string{"email:lena@web.de"}},
		{"mailto", "mailto:john@example.com?subject=hi", nil, []string{"email:john@example.com"}},
		{"non-ascii local part", "josé@exemplo.com.br", nil, []string{"email:josé@exemplo.com.br"}},
		{"apostrophe", "o'neil@eircom.ie", nil, []string{"email:o'neil@eircom.ie"}},
		{"numeric local part", "123456789@163.com", nil, []string{"email:123456789@163.com"}},
		{"two", "a@x.de,b@y.de", nil, []string{"email:a@x.de", "email:b@y.de"}},
		{"obfuscated round", "name(at)web.de", nil, []string{"email:name(at)web.de"}},
		{"obfuscated square", "anna [at] gmx [dot] de", nil, []string{"email:anna [at] gmx [dot] de"}},
		{"mention", "ping @anna_schmidt", nil, nil},
		{"at sign alone", "meeting @ 10:30", nil, nil},
		{"retina asset", "logo@2x.png", nil, nil},
		{"npm version", "lodash@4.17.21", nil, nil},
		{"ssh remote", "git@github.com:lethe/lethe.git", nil, nil},
		{"no dot in domain", "root@localhost", nil, nil},
		{"one-letter tld", "a@b.c", nil, nil},
		{"url user", "ssh://git@github.com/org/repo", nil, nil},
		{"handle in path", "https://medium.com/@jane.doe/post", nil, nil},
		{"spelled out", "anna at gmail dot com", nil, nil},
	})
}

func TestDetectPhone(t *testing.T) {
	runDetect(t, []detectCase{
		{"E.164 grouped", "call +44 7700 900123 now", nil, []string{"phone:+44 7700 900123"}},
		{"E.164 unformatted", "+4915123456789", nil, []string{"phone:+4915123456789"}},
		{"trunk in parentheses", "+44 (0)20 7946 0321", nil, []string{"phone:+44 (0)20 7946 0321"}},
		{"00 prefix", "0044 7700 900555", nil, []string{"phone:0044 7700 900555"}},
		{"UK mobile", "07700 900456", nil, []string{"phone:07700 900456"}},
		{"UK unformatted", "07700900789", nil, []string{"phone:07700900789"}},
		{"US parentheses", "(415) 555-2671", nil, []string{"phone:(415) 555-2671"}},
		{"US dashes", "212-555-0147", nil, []string{"phone:212-555-0147"}},
		{"US toll free", "1-800-555-0123", nil, []string{"phone:1-800-555-0123"}},
		{"DE slash", "030/1234567", nil, []string{"phone:030/1234567"}},
		{"DE slash then spaces", "0221 / 123 45 67", nil, []string{"phone:0221 / 123 45 67"}},
		{"FR pairs", "06 12 34 56 78", nil, []string{"phone:06 12 34 56 78"}},
		{"FR dots", "06.12.34.56.78", nil, []string{"phone:06.12.34.56.78"}},
		{"NL dash", "06-12345678", nil, []string{"phone:06-12345678"}},
		{"ES mobile", "612 345 678", nil, []string{"phone:612 345 678"}},
		{"ES landline", "91 123 45 67", nil, []string{"phone:91 123 45 67"}},
		{"IT mobile", "333 1234567", nil, []string{"phone:333 1234567"}},
		{"IN mobile", "98765 43210", nil, []string{"phone:98765 43210"}},
		{"context unformatted", "móvil: 612345678", nil, []string{"phone:612345678"}},
		{"context short", "call me at 555-0123", nil, []string{"phone:555-0123"}},
		{"no-break spaces", "06\u00a012\u00a034\u00a056\u00a078", nil, []string{"phone:06\u00a012\u00a034\u00a056\u00a078"}},
		{"trailing number dropped", "tel 0612345678 2 times", nil, []string{"phone:0612345678"}},
		{"after a small number", "2 0612345678", nil, []string{"phone:0612345678"}},
		{"date", "am 15.03.2024 um 14:30", nil, nil},
		{"date and time", "05/03/2024 10 Uhr", nil, nil},
		{"iso date", "2024-03-15 09:00", nil, nil},
		{"order hash", "order #123456789", nil, nil},
		{"order context", "Numéro de commande : 0612345678", nil, nil},
		{"invoice context", "Facture n° 0123 4567 89", nil, nil},
		{"account context", "Kontonummer 0532013000", nil, nil},
		{"price", "€1 234,56", nil, nil},
		{"price after", "912 345 678 €", nil, nil},
		{"isbn", "ISBN 978-3-16-148410-0", nil, nil},
		{"years", "1999 2004 2015", nil, nil},
		{"postcode", "75008 Paris", nil, nil},
		{"percent", "+12,34 %", nil, nil},
		{"utc offset", "UTC+01:00", nil, nil},
		{"serial", "4711-0815-2342", nil, nil},
		{"long id", "00340434161094015902", nil, nil},
		{"inside identifier", "INV-2024-000123", nil, nil},
		{"part number", "part number AB12 3456 7890", nil, nil},
		{"followed by letters", "0612345678abc", nil, nil},
		{"email local part", "0612345678@qq.com", nil, []string{"email:0612345678@qq.com"}},
	})
}

func TestDetectIBAN(t *testing.T) {
	runDetect(t, []detectCase{
		{"grouped", "IBAN DE89 3704 0044 0532 0130 00.", nil, []string{"iban:DE89 3704 0044 0532 0130 00"}},
		{"compact", "DE89370400440532013000", nil, []string{"iban:DE89370400440532013000"}},
		{"letters in BBAN", "GB82 WEST 1234 5698 7654 32", nil, []string{"iban:GB82 WEST 1234 5698 7654 32"}},
		{"lower case", "de89 3704 0044 0532 0130 00", nil, []string{"iban:de89 3704 0044 0532 0130 00"}},
		{"national grouping", "FR76 30006 00001 12345678901 89", nil, []string{"iban:FR76 30006 00001 12345678901 89"}},
		{"short country", "NO93 8601 1117 947", nil, []string{"iban:NO93 8601 1117 947"}},
		{"bad checksum", "DE89 3704 0044 0532 0130 01", nil, nil},
		{"wrong length", "DE89 3704 0044 0532 0130", nil, nil},
		{"unknown country", "XX89 3704 0044 0532 0130 00", nil, nil},
		{"vat number", "DE123456789", nil, nil},
		{"inside a word", "xDE89370400440532013000", nil, nil},
		{"longer token", "DE89370400440532013000X", nil, nil},
	})
}

func TestDetectCard(t *testing.T) {
	runDetect(t, []detectCase{
		{"visa spaced", "4111 1111 1111 1111", nil, []string{"card:4111 1111 1111 1111"}},
		{"mastercard compact", "5555555555554444", nil, []string{"card:5555555555554444"}},
		{"mastercard 2-series", "2223 0031 2200 3222", nil, []string{"card:2223 0031 2200 3222"}},
		{"amex", "3782 822463 10005", nil, []string{"card:3782 822463 10005"}},
		{"diners", "3056 930902 5904", nil, []string{"card:3056 930902 5904"}},
		{"dashes", "4111-1111-1111-1111", nil, []string{"card:4111-1111-1111-1111"}},
		{"dots", "4111.1111.1111.1111", nil, []string{"card:4111.1111.1111.1111"}},
		{"visa 19", "4445 4220 6862 8468 167", nil, []string{"card:4445 4220 6862 8468 167"}},
		{"expiry follows", "4111 1111 1111 1111 12/26", nil, []string{"card:4111 1111 1111 1111"}},
		{"invoice context", "Rechnung 4242 4242 4242 4242", nil, []string{"card:4242 4242 4242 4242"}},
		{"luhn fails", "4111 1111 1111 1112", nil, nil},
		{"no network", "9400 0536 2631 6802", nil, nil},
		{"visa wrong length", "490154203237518", nil, nil},
		{"odd grouping", "41 11 11 11 11 11 11 11", nil, nil},
		{"mixed separators", "4111 1111-1111 1111", nil, nil},
		{"masked", "**** **** **** 4242", nil, nil},
	})
}

func TestDetectIPv4(t *testing.T) {
	runDetect(t, []detectCase{
		{"private", "router at 192.168.1.23", nil, []string{"ipv4:192.168.1.23"}},
		{"with port", "100.64.12.200:8443", nil, []string{"ipv4:100.64.12.200"}},
		{"cidr", "192.0.2.1/24", nil, []string{"ipv4:192.0.2.1"}},
		{"sentence end", "Server at 192.168.1.1.", nil, []string{"ipv4:192.168.1.1"}},
		{"zero padded", "192.168.001.001", nil, []string{"ipv4:192.168.001.001"}},
		{"list", "203.0.113.195, 70.41.3.18", nil, []string{"ipv4:203.0.113.195", "ipv4:70.41.3.18"}},
		{"octet too big", "999.1.1.1", nil, nil},
		{"five parts", "1.3.6.1.4.1.311", nil, nil},
		{"version", "Version 1.2.3.4", nil, nil},
		{"build", "build 5.15.0.91", nil, nil},
		{"loopback", "127.0.0.1", nil, nil},
		{"unspecified", "0.0.0.0:8080", nil, nil},
		{"netmask", "255.255.255.0", nil, nil},
		{"leading zero", "01.02.03.04", nil, nil},
		{"date", "12.03.2024", nil, nil},
		{"letters after", "1.2.3.4a", nil, nil},
	})
}

func TestDetectIPv6(t *testing.T) {
	runDetect(t, []detectCase{
		{"compressed", "2001:db8::1 is up", nil, []string{"ipv6:2001:db8::1"}},
		{"full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", nil, []string{"ipv6:2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{"zone", "fe80::1ff:fe23:4567:890a%eth0", nil, []string{"ipv6:fe80::1ff:fe23:4567:890a"}},
		{"brackets and port", "[2001:db8:4::2]:443", nil, []string{"ipv6:2001:db8:4::2"}},
		{"v4 mapped", "::ffff:192.0.2.128", nil, []string{"ipv6:::ffff:192.0.2.128"}},
		{"upper case", "2001:DB8:0:0:8:800:200C:417A", nil, []string{"ipv6:2001:DB8:0:0:8:800:200C:417A"}},
		{"sentence end", "from 2001:db8:1234::abcd.", nil, []string{"ipv6:2001:db8:1234::abcd"}},
		{"time", "12:30:45", nil, nil},
		{"mac", "00:1A:2B:3C:4D:5E", nil, nil},
		{"loopback", "::1", nil, nil},
		{"unspecified", ":: here", nil, nil},
		{"c++", "std::vector", nil, nil},
		{"ruby", "Foo::Bar::Baz", nil, nil},
		{"css", "a::before", nil, nil},
	})
}

func TestDetectURLCredentials(t *testing.T) {
	runDetect(t, []detectCase{
		{"postgres", "postgres://admin:s3cr3t@db.example.com:5432/app", nil, []string{"url_credentials:admin:s3cr3t"}},
		{"https", "https://deploy:hunter2@git.example.org/x.git", nil, []string{"url_credentials:deploy:hunter2"}},
		{"at in password", "https://u:p@ss@host/", nil, []string{"url_credentials:u:p@ss"}},
		{"ip host", "redis://root:toor@10.0.0.12:6379", nil, []string{"url_credentials:root:toor", "ipv4:10.0.0.12"}},
		{"token as user", "https://ghp_16C7e42F292c6912E7710c838347@github.com/o/r", nil, []string{"url_credentials:ghp_16C7e42F292c6912E7710c838347"}},
		{"user only", "ssh://git@github.com/org/repo.git", nil, nil},
		{"empty password", "https://anna:@host/", nil, nil},
		{"no userinfo", "https://www.example.com/login?user=anna", nil, nil},
		{"at in path", "https://example.org/@anna/posts", nil, nil},
	})
}

func TestDetectIdentity(t *testing.T) {
	runDetect(t, []detectCase{
		{"name", "Anna Schmidt called", []string{"Anna Schmidt"}, []string{"identity:Anna Schmidt"}},
		{"case", "ANNA SCHMIDT called", []string{"Anna Schmidt"}, []string{"identity:ANNA SCHMIDT"}},
		{"white space", "Anna \n Schmidt", []string{"Anna Schmidt"}, []string{"identity:Anna \n Schmidt"}},
		{"longest known", "Giulia Bianchi ha confermato", []string{"Giulia", "Giulia Bianchi"}, []string{"identity:Giulia Bianchi"}},
		{"unicode case", "an MÜLLER", []string{"Müller"}, []string{"identity:MÜLLER"}},
		{"diacritics", "Jose Alvarez", []string{"José Álvarez"}, []string{"identity:Jose Alvarez"}},
		{"accent in text", "Élodie", []string{"elodie"}, []string{"identity:Élodie"}},
		{"possessive", "Anna's notebook", []string{"Anna"}, []string{"identity:Anna"}},
		{"hyphen for space", "Anna Lena kommt", []string{"Anna-Lena"}, []string{"identity:Anna Lena"}},
		{"digit first", "user 42jdoe logged in", []string{"42jdoe"}, []string{"identity:42jdoe"}},
		{"known e-mail is an e-mail", "to sanne@ziggo.nl", []string{"sanne@ziggo.nl"}, []string{"email:sanne@ziggo.nl"}},
		{"name inside e-mail", "anna.schmidt@example.de", []string{"Anna"}, []string{"email:anna.schmidt@example.de"}},
		{"prefix of a word", "Annabelle", []string{"Anna"}, nil},
		{"suffix of a word", "Rossini", []string{"Rossi"}, nil},
		{"single letter ignored", "a b c", []string{"a", " "}, nil},
		{"no known", "Anna", nil, nil},
	})
}

func TestDetectOffsets(t *testing.T) {
	text := "Grüße — schreib an anna@example.de oder ruf +49 30 12345678 an."
	spans := redact.Detect(text)
	want := []redact.Span{
		{Kind: redact.Email, Start: 23, End: 38},
		{Kind: redact.Phone, Start: 48, End: 63},
	}
	if !slices.Equal(spans, want) {
		t.Fatalf("Detect(%q) = %+v, want %+v", text, spans, want)
	}
	if got := text[spans[0].Start:spans[0].End]; got != "anna@example.de" {
		t.Errorf("email span holds %q", got)
	}
	if got := text[spans[1].Start:spans[1].End]; got != "+49 30 12345678" {
		t.Errorf("phone span holds %q", got)
	}
}

func TestDetectNothing(t *testing.T) {
	text := "Ich habe seit 3 Wochen schlecht geschlafen, Termin am 12.03. um 9:30."
	if spans := redact.Detect(text, "Anna Schmidt"); spans != nil {
		t.Fatalf("Detect = %+v, want nil", spans)
	}
	if n := testing.AllocsPerRun(100, func() { redact.Detect(text, "Anna Schmidt", "anna@example.de") }); n != 0 {
		t.Errorf("Detect allocated %v times on text with nothing to find", n)
	}
}
