// Package sqlstore is the SQL connector: it implements the engine's Store
// (dsr/engine) and the registry's SchemaReader (pkg/registry) over gorm for
// Postgres, MySQL/MariaDB and SQLite (pure Go, no cgo).
//
// Selections become plain SQL strings run through gorm's Raw and Exec: a hop
// inside one store is a nested sub-select, key sets are IN lists of bounded
// size, identifiers from the registry are quoted by the dialect
// (registry.QuoteIdent) and every value is a parameter. Emails are matched
// exactly and case-insensitively, folded alike on both sides (fold.go): the
// address by dsr.FoldEmail in Go, the column by a fold the store was probed
// to agree with (a registered function on SQLite, the column's collation or
// a Unicode one on Postgres and MySQL); a '%', '_', quote or backslash in
// an address is a plain character. On MySQL the comparison is made on the
// binary utf8mb4 bytes so that accent- or pad-insensitive collations cannot
// widen it.
//
// No statement writes to a table unless the collection's primary key is
// one of the table's own keys (keys.go), read from the live schema: rows
// are never addressed by columns that do not tell them apart. A retention
// cut-off is compared as its column stores time (timecolumn.go): a
// date/time, an epoch number of the registry's unit, or ISO-8601 text the
// database parses; a column it cannot date is refused.
//
// Deletes and anonymisation work in batches of bounded size, each batch one
// transaction. A store that cannot be reached answers a *dsr.Error with
// code EUNAVAILABLE naming the store, which makes the request retry. gorm's
// SQL logging is off: statements carry personal data as parameters.
package sqlstore
