// Package processor is the connector for processor stores (GDPR Art. 19):
// downstream recipients such as an LLM vendor that are told of an erasure
// through a signed webhook.
//
// A notice is a JSON body carrying the request id and the subject's
// identities, POSTed with the header
//
//	Lethe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//
// so that the receiver can check who sent it (the secret comes from the
// environment variable the registry names) and refuse a replay (the
// timestamp is signed; Verify rejects one older than its tolerance). The
// notice is retried with exponential backoff and jitter until the processor
// answers 2xx or the store's deadline passes; the request id doubles as the
// Idempotency-Key header, so a processor can treat a repeat as one notice.
package processor
