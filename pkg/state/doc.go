// Package state keeps Lethe's own records through gorm: requests, their
// journals and frozen keys, tenant keys and the audit chain. SQLite is the
// embedded default (pure Go); Postgres is the production store and the only
// one that several replicas may share. Versioned SQL migrations under
// migrations/<dialect>/ are applied at Open, under an advisory lock on
// Postgres so that replicas starting together migrate once.
package state
