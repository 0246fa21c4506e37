// Package export builds, stores and serves access packages (GDPR Art. 15
// and 20) and deletes them when they expire.
//
// A package is a ZIP written straight from the stores: data/<store>/
// <collection>.json (an array of objects) and .csv for every collection,
// files/<blob store>/<key> for the objects the subject's rows name,
// redis/<store>.json for the redis keys, report.html (a plain-language
// account of what is held, why, who received it, how long it is kept and
// where it came from, all from the registry) and manifest.json (every
// entry with its size and sha256, and the counts). Rows go from the
// database cursor into the ZIP as they arrive: the JSON entry is written
// in place while the CSV entry is compressed at the same time into an
// encrypted spool file and appended after it, so no collection is ever held
// in memory and both cores work.
//
// The ZIP is encrypted on its way to the bucket (LETHE_EXPORT_URL, any
// gocloud URL) as an age file (filippo.io/age) for an X25519 identity
// derived from LETHE_EXPORT_KEY (see Encrypt and AgeIdentity): the bucket
// never holds a readable byte, a truncated or altered package fails to
// decrypt, a package cannot be passed off as another request's, and an
// operator can decrypt one offline with the age tool and the key file
// that deploy/age-identity.py prints. Packages written before age, in
// Lethe's own AES-256-GCM chunk format, are still read until they expire.
// Service records each package with its expiry in the state store, serves
// it decrypted to the request's tenant or the admin, and Sweeper deletes
// expired ones.
package export
