package state

import "time"

// SetAfterRestoreRead makes AcceptRestore run f between its read of the
// chain and its append.
func SetAfterRestoreRead(l *AuditLog, f func()) { l.afterRestoreRead = f }

// SetAnchorRefreshEvery sets how often a scrape of a process that found
// the chain diverged compares it with the anchor again.
func SetAnchorRefreshEvery(a *Anchor, d time.Duration) { a.refreshEvery = d }

// RequestColumns exposes the columns a request is filed with on Postgres.
var RequestColumns = requestColumns
