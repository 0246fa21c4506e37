// Package redisstore is the redis connector: it implements the engine's
// KeyStore (dsr/engine) with go-redis.
//
// Keys are found with SCAN and MATCH, never KEYS, so a large keyspace is
// walked in bounded steps without blocking the server; a pattern without a
// wildcard (ratelimit:{email}) is looked up directly. The patterns come from
// the engine with every filled-in value escaped for glob matching. Erasure
// deletes with UNLINK in batches; access reads strings, hashes, lists, sets
// and sorted sets. A server that cannot be reached answers a *dsr.Error
// with code EUNAVAILABLE naming the store; keys and values never appear in
// errors.
package redisstore
