// Package testkit is what Lethe's tests share: Eventually (poll a condition
// until a deadline, failing with what was last seen), Clock (an injected
// time that a test moves by hand), Registry (a test's registry parsed or
// the test failed), the chat application's stores (DSN, OpenStore, Exec,
// ForEachDriver) on every driver Lethe reaches, and a fresh state store of
// each dialect (StateURL, ForEachState).
//
// It is imported only from _test files. It never stands in for a store:
// OpenStore opens a real database from pkg/testdb.
package testkit
