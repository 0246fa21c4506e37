// Package mail sends Lethe's emails to end users: the self-service
// verification code, the download link of an access package and the
// confirmation of an erasure.
//
// SMTP sends through LETHE_SMTP_URL with github.com/wneessen/go-mail, and
// TLS is required: smtp://user:pass@host:port upgrades with STARTTLS and
// refuses to send when the server does not offer it, since a network
// attacker who strips the offer would otherwise read the codes and links;
// smtps:// speaks TLS from the first byte. Only ?tls=none sends in clear,
// never with a password, and lethe serve accepts it only under --demo or
// with LETHE_SMTP_INSECURE=1. Without that URL, Log writes each message
// to the service log instead, with the address masked and the message's
// secret (a code, a link token) replaced by asterisks — except in the
// demo, where the tour needs to read the code.
package mail
