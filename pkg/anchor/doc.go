// Package anchor keeps the audit chain's signed checkpoints in a gocloud
// bucket outside Lethe's state store: by default the export bucket
// (LETHE_EXPORT_URL), or any bucket named by LETHE_AUDIT_ANCHOR_URL
// (file:///…, s3://…, gs://…). One object per checkpoint,
// audit/checkpoints/<entry seq, 20 digits>.json, so that listing them in
// name order lists them in chain order. A writer of the state database who
// cannot also write this bucket cannot rewrite the trail unseen; giving
// the bucket object lock or versioning makes even a writer of both seen.
package anchor
