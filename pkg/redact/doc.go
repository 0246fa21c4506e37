// Package redact finds personal data in free text and replaces it with
// stable pseudonyms, for the owner views of a studio's chat history and
// the "redact" retention action.
//
// Detect makes a single pass over the bytes. Most bytes are skipped by a
// table lookup; detectors run only at anchors: '@' (e-mail), a digit, '+'
// or '(' at the start of a number (IPv4, card, phone, read once as a run
// of digit groups), ':' (IPv6, and "://" for URL credentials), a letter
// pair followed by two digits at a word start (IBAN), "(at)" and "[at]"
// (e-mail written to escape harvesters), and the first letters of the
// subject's known identities. No regular expressions are used, and a text
// with nothing to redact costs no allocation. With a tenant's dictionary
// of known people (People), the same pass looks each word start up among
// the words their names start with, refusing most by their first three
// bytes; the dictionary's automaton then runs only around the words
// found, in the few texts that hold one. Where candidates overlap the
// longer wins, then the more specific kind (Kinds). Validation is strict
// where a checksum exists (mod-97 for IBANs, Luhn with issuer prefix and
// length for cards, octet ranges, net/netip for IPv6) and by format and
// context for phone numbers, which have none.
//
// A Redactor holds one tenant's key, HMAC-SHA256(secret, "redact\x00" +
// tenant), and replaces each value with "<kind:hhhhhh>" computed from the
// normalised value, so a conversation still reads coherently ("<email:
// 4f9a1c> wrote to <email:77d0be>") while the same address gives another
// token in another tenant.
//
// Decisions on ambiguous text, which the labelled corpus (Corpus, scored
// by Evaluate) follows:
//
//   - Cards and IBANs are defined by their checksums: a mistyped number
//     is not redacted. A number passing Luhn with a card network's prefix
//     and length is a card even after "invoice" or "order".
//   - A phone number needs '+' or "00" and a country code, or a national
//     grouping (trunk '0' numbers; North American, Spanish, Portuguese,
//     Italian and Indian groupings), or a word naming a phone before it.
//     A bare 9-digit number with no context ("600123456") is not one: it
//     cannot be told from an order id. Words naming something else
//     ("order", "Rechnung", "pedido", "Konto") veto national numbers;
//     dates, prices and percentages are refused.
//   - A dotted quad is an IPv4 address unless it follows "version",
//     "build", "section" and the like, is loopback, 0.0.0.0 or a netmask;
//     private ranges are redacted, as they identify devices in logs.
//     Versions with more than four parts or parts above 255 never match.
//   - URL credentials are the userinfo "user:password" of a URL (or a
//     lone token of 20 characters or more); the host stays readable. A
//     bare user name ("ssh://git@github.com") is not redacted.
//   - E-mail addresses followed by ":path" (SSH remotes), or whose
//     "top-level domain" is a file extension ("logo@2x.png"), are not.
//     The spelled-out "anna at gmail dot com" is not read.
//   - Known identities match case-insensitively, ignoring the diacritics
//     of Latin letters and treating hyphens as spaces, on word boundaries
//     ("Anna" in "Anna's", not in "Annabelle"; "Jose" for "José");
//     strings shorter than two characters are ignored.
package redact
