// Package state keeps Lethe's own records through gorm: requests, their
// journals and frozen keys, tenant keys and the audit chain. SQLite is the
// embedded default (pure Go); Postgres is the production store and the only
// one that several replicas may share. The goose SQL migrations under
// migrations/<dialect>/ are embedded and applied at Open (pressly/goose),
// under a lock so that replicas starting together migrate once: an
// advisory lock on Postgres, a leased row on SQLite. Processes keeps the
// heartbeats of lethe serve processes (lethe_processes); the requests and
// retention runs a process starts record its id, so a dead process's work
// is taken over at once and a live one's never. LockServe keeps a SQLite
// store to one serving process.
package state
