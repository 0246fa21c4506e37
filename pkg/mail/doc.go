// Package mail sends Lethe's emails to end users: the self-service
// verification code, the download link of an access package and the
// confirmation of an erasure.
//
// SMTP sends through LETHE_SMTP_URL (smtp://user:pass@host:port, STARTTLS
// whenever the server offers it, authentication only over TLS or to
// localhost; smtps:// for implicit TLS). Without that URL, Log writes each
// message to the service log instead, with the address masked and the
// message's secret (a code, a link token) replaced by asterisks — except in
// the demo, where the tour needs to read the code.
package mail
