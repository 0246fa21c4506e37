// Package ropa builds the records of processing activities (GDPR Art. 30)
// from the registry: one activity per purpose, with the categories of
// data its collections hold, the categories of people they are about, the
// recipients (the registry's recipients and processor stores), transfers
// outside the EEA where the registry declares them, and how long each
// collection is kept. The record renders as CSV, JSON and a self-contained,
// printable HTML page. The registry is the single source: what it does not
// declare is said to be undeclared, never guessed.
package ropa
