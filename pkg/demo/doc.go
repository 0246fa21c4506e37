// Package demo creates the demo application that `lethe serve --demo` runs
// against: an AI-chat platform with two studios (tenants), four end users, their
// chats and messages, uploaded CVs and job descriptions, and a newsletter list.
//
// Seed writes everything under one directory: the application's SQLite database
// (app.db) and its upload store (uploads/, one file per row of the uploads table,
// addressed by the row's relative storage_key). The data is shaped to exercise
// every part of Lethe: identities in two tables (users by id, newsletter by email
// only), references several hops deep (users → chats → messages and uploads),
// personal data inside JSON message bodies and files, rows in both tenants for
// the same person, and timestamps spread over the last 60 days so that 7-day and
// 30-day retention windows each have something to purge and something to keep.
//
// Seeding is one SQLite transaction. Upload files are written before it commits,
// and a demo_meta row is inserted last, so a database without that row was never
// seeded; a seeded directory is left untouched by later calls.
package demo
