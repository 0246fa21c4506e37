// Package engine is Lethe's registry engine: it implements dsr.Executor by
// walking the registry from a person's email to every row tied to them,
// freezing the root keys into the request's journal, erasing children first
// in bounded, journaled batches, and verifying the erasure by walking again.
//
// The engine is domain code: it imports dsr, pkg/registry and
// pkg/connector only and talks to the application's databases through the
// narrow Reader and Store interfaces of pkg/connector, which describe row
// sets as Selections (an email match, key sets, and sub-selections pushed
// down while they stay in one store). pkg/connector/sqlstore turns
// Selections into SQL.
//
// The walk: identity collections match the email; every other collection
// matches rows whose reference column holds a value of the referenced
// collection's rows, hop by hop. Hops inside one store are nested
// sub-selections that the store runs as one SQL statement; hops to an
// identity collection or to another store use key sets, loaded in chunks.
// A tenant-scoped request touches only collections with a tenant column
// (restricted to that tenant) and the rows that hang from them.
//
// Once an erasure starts, the primary keys of identity collections and the
// key set of every hop (the referenced column of each parent: user ids,
// chat ids, file keys) are frozen into the journal before any change, so
// neither an anonymised email column nor a deleted parent can hide the
// subject's remaining rows from a resumed run or from verification. Leaf
// collections, where the bulk of a subject's rows live, are never frozen:
// they are deleted in bounded batches through their parents' frozen keys.
//
// Beyond SQL, the engine drives three more narrow interfaces: BlobStore for
// the objects named by file columns (deleted right after their rows' step,
// through the frozen file keys; a key the store refuses as unsafe is
// counted and reported, never followed), KeyStore for redis keys (templates
// filled from frozen values and the email, each value escaped for glob
// matching, removed after the rows), and ProcessorNotifier for processors (told
// after verification, each outcome journaled so a resumed run never tells
// one twice). Verification checks objects and keys as well as rows. An
// access request hands an Access, which streams rows (Streamer), files and
// keys one at a time, to the Exporter that writes the package.
//
// The journal holds the frozen keys only while the request runs (the state
// store forgets them when it ends); a step's Detail, which tenants see,
// carries counts and passes, and where a step resumes (the last key it
// handled) travels in its Cursor, never shown. With Copies set, an erasure
// also removes the person's copies in Lethe's own stores (access packages,
// self-service rows) and its verification fails while any is left.
package engine
