package state

// SetAfterRestoreRead makes AcceptRestore run f between its read of the
// chain and its append.
func SetAfterRestoreRead(l *AuditLog, f func()) { l.afterRestoreRead = f }
