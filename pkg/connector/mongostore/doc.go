// Package mongostore is the connector for MongoDB stores (kind: mongo): it
// implements the connector.Store contract, the engine's Streamer and the
// retention sweep's Store over the official driver, so that the engine and
// the sweeper walk, erase and purge documents as they do rows.
//
// A collection's columns are its documents' top-level fields; the paths of
// a json: entry lead inside them, with the syntax of JSON columns. Every
// filter is built as typed BSON (bson.D), never parsed from text, so a
// value such as {"$ne": null} held in an identity field or a request is a
// plain string. Identity fields are matched exactly and case-insensitively
// as dsr.FoldEmail folds: the server narrows the candidates with an
// anchored regular expression in which every character of the address
// stands only for itself and its case variants, and each candidate is
// confirmed in Go before its _id is used; nothing else is loaded.
//
// Walks stay in the server: a hop is an $in over the parent's key values,
// read distinct and in pages through an aggregation, never the documents.
// Deletes and rewrites go by _id in bounded batches; MongoDB's writes are
// atomic per document, so a batch interrupted half-way is finished by the
// next run of the same (journaled) selection.
//
// Only features that FerretDB 1.x (the MongoDB-wire server the tests run
// on) shares with MongoDB are used: no transactions, no collations, no
// case-insensitive regex option (PCRE and Go's engine fold differently),
// no $lookup; indexes are read with listIndexes.
package mongostore
