// Package retention is Lethe's domain for retention sweeps (GDPR Art.
// 5(1)(e)): the rules that say how long each collection's rows are kept,
// per-tenant overrides that may only shorten them, legal holds that exempt
// rows, and the Sweeper that purges or anonymises what has expired.
//
// A sweep works unit by unit: one unit is one collection under one policy
// tier (a tenant's override first, then the registry's window for everyone
// else). A delete unit first purges the rows of child collections hanging
// from the expiring rows, deepest first, then the rows themselves; an
// anonymize unit rewrites the expiring rows with the collection's erasure
// strategies. Every batch is one statement and one transaction in the
// application's store, bounded in size and time, followed by a pause; a
// short batch ends the phase. A unit's own rows go oldest first from a
// cursor on the timestamp column, or, on stores that can (Postgres, see
// RangeStore), slice by slice of the table in storage order, so that a
// sweep reads the table once, as one big DELETE would. Progress (counts and a cursor) is saved after
// every batch, so a sweep that is killed or loses its store is resumed by
// the next one with the same cut-off, and no row is counted twice.
//
// Rows under a legal hold, and parent rows that a collection kept for a
// legal reason still references, are excluded from every statement and
// counted as held. A run counts per collection and tenant: a tenant's
// override under that tenant, the registry's window each purged,
// anonymised or held row under its tenant: its tenant column's value, or,
// for a collection without one, its parent's, through the references the
// registry's tenant scoping follows (messages under their chat's studio;
// see tenantPath). Rows that lead to no tenant count under none. So a
// studio's owner sees the studio's share. A dry run counts what a real run
// would do, under the same tenants (one grouped count per unit, see
// Store.Tally), and changes nothing.
//
// The package imports neither echo nor gorm: it talks to the application's
// stores through Store, to the erasure engine through Engine, and to
// Lethe's own state through RunLog, HoldStore and SettingsStore, all
// defined here and implemented in pkg/.
package retention
