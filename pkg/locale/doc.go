// Package locale holds the words Lethe shows to people (the privacy page,
// the self-service mails, report.html) in every language it speaks, and
// picks the language for each of them.
//
// The messages live in translations/<tag>.yaml, one file per language, in
// go-i18n's format (github.com/nicksnyder/go-i18n/v2): a message id, then
// its text, or its plural forms (one, other, ...) as the language's
// CLDR plural rules name them. Numbers are written by golang.org/x/text
// (1,234 or 1.234); dates by the month names and date layout each file
// declares. Adding a language is adding one file: copy en.yaml to
// <tag>.yaml (de, fr, pt-BR...), translate every value, and run
// go test ./pkg/locale, which fails for a missing or extra message.
//
// A message a file lacks is shown as ⟦id⟧ rather than in another language,
// so a gap is seen in the browser tests instead of passing unnoticed.
package locale
