// Package dsr holds Lethe's domain for data-subject requests (GDPR Art. 15,
// 17, 20): the Request and its lifecycle, the normalised Email that names a
// subject, the keyed Subject hash that stands for it in logs and the audit
// trail, tenant keys, the audit chain, and the service interfaces that the
// adapters in pkg/ and api/ implement. It imports neither echo nor gorm: the
// adapters depend on it, never the other way round.
package dsr
