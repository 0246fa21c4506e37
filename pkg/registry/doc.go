// Package registry reads and validates lethe.yaml: the declaration of an
// application's data that Lethe walks to find, export and erase everything
// tied to a person.
//
// A Registry holds stores (sql, blob, redis, processor), collections keyed
// "<store>.<name>" with their primary key, identity (email) columns, tenant
// column, references to other collections (any number of hops, across
// stores), data categories, JSON paths, file columns, erasure action and
// retention rule. Parse checks everything that can be checked from the file
// alone and returns a *ValidationError whose problems name the path in the
// file, the line, and what to change; CheckEnv checks the environment
// variables the stores name; CheckLive compares the registry with the live
// databases through the narrow SchemaReader interface the SQL connector
// implements, and completes the registry with what only the live schema
// tells: each table's primary key (MatchKey) and how each retention
// timestamp stores time (TimeStorage). The package never talks to a
// database itself.
//
// A parsed registry has a canonical form (Marshal) and a Version, the SHA-256
// of that form, so a request can snapshot the registry it started with and
// resume with exactly that one.
package registry
