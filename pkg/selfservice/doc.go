// Package selfservice lets end users use their rights without writing to
// the studio: ask for their data or its erasure, prove they own the email
// with a six-digit code, and download their access package from an
// emailed link (dsr.SelfService), and tells them when their request ends
// (dsr.EndObserver).
//
// Nothing answers differently for an address Lethe knows: a request row is
// created and a code is sent whatever the address, and whether anything is
// held is found out only when the verified request runs. Codes come from
// crypto/rand and are stored as an HMAC keyed with LETHE_SUBJECT_KEY and
// bound to their request — a bare SHA-256 of six digits is reversed by
// hashing all million of them. Download tokens are 256 random bits, stored
// by their keyed hash, bound to one request and valid until its package
// expires. The address waits in an outbox (the store's
// lethe_self_requests.email) until the closing notice is sent, then is
// deleted; Sweep resends notices that failed and cancels requests whose
// code expired unused.
//
// Rate limits count in the state store (Store.Hit), so several replicas
// share them. They are meant to stop guessing and flooding without
// letting a stranger lock a person out: the client IP's limits (asks,
// codes tried, wrong codes; the IP as the connection shows it, or as a
// trusted proxy names it) come first, and the one limit per address
// counts only wrong codes, over a short window (Limits). A newer request
// never cancels an older one still waiting for its code.
package selfservice
