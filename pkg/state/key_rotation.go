package state

import (
	"context"
	"fmt"
	"time"
)

// Kinds of rows that depend on a key, as KeyUses counts them.
const (
	// KindOpenRequests are requests not yet final, by subject key.
	KindOpenRequests = "open requests (subject key)"
	// KindPackagedRequests are final access requests whose package can
	// still be downloaded, by subject key: a later erasure finds them by
	// subject, and their download links are keyed with it.
	KindPackagedRequests = "requests with a live access package (subject key)"
	// KindActiveHolds are legal holds on a person not released, by
	// subject key.
	KindActiveHolds = "active legal holds (subject key)"
	// KindPackages are access packages not expired nor deleted, by export key.
	KindPackages = "access packages not expired (export key)"
)

// KeyUse is how many rows of one kind were made with one key, named by
// its fingerprint (dsr.KeyID; "" for rows made before fingerprints were
// recorded).
type KeyUse struct {
	Kind  string
	KeyID string
	Rows  int64
	// Until is when the last of them stops needing the key by itself
	// (a package's expiry), zero when only rehashing or finishing does.
	Until time.Time
}

// KeyUses counts, per kind and key fingerprint, the rows of the state
// store that still need a key to be read, matched or decrypted at now.
// Final requests without a live package and the audit trail are not
// counted: they keep the subject they were recorded with and need no key.
func KeyUses(ctx context.Context, db *DB, now time.Time) ([]KeyUse, error) {
	g := db.Gorm.WithContext(ctx)
	type row struct {
		K *string
		N int64
	}
	var out []KeyUse
	add := func(kind string, rows []row) {
		for _, r := range rows {
			u := KeyUse{Kind: kind, Rows: r.N}
			if r.K != nil {
				u.KeyID = *r.K
			}
			out = append(out, u)
		}
	}
	var open, packaged, holds, packages []row
	if err := g.Table("lethe_requests").Select("subject_key AS k, count(*) AS n").
		Where("status IN ? AND subject <> ''", openStatuses()).Group("subject_key").Order("subject_key").Scan(&open).Error; err != nil {
		return nil, fmt.Errorf("state: key uses: %w", err)
	}
	add(KindOpenRequests, open)
	if err := g.Table("lethe_requests r").Select("r.subject_key AS k, count(*) AS n").
		Joins("JOIN lethe_exports e ON e.request_id = r.id").
		Where("r.status NOT IN ? AND e.deleted_at IS NULL AND e.expires_at > ?", openStatuses(), utcMicro(now)).
		Group("r.subject_key").Order("r.subject_key").Scan(&packaged).Error; err != nil {
		return nil, fmt.Errorf("state: key uses: %w", err)
	}
	add(KindPackagedRequests, packaged)
	if err := g.Table("lethe_holds").Select("subject_key AS k, count(*) AS n").
		Where("released_at IS NULL AND subject <> ''").Group("subject_key").Order("subject_key").Scan(&holds).Error; err != nil {
		return nil, fmt.Errorf("state: key uses: %w", err)
	}
	add(KindActiveHolds, holds)
	if err := g.Table("lethe_exports").Select("key_id AS k, count(*) AS n").
		Where("deleted_at IS NULL AND expires_at > ?", utcMicro(now)).Group("key_id").Order("key_id").Scan(&packages).Error; err != nil {
		return nil, fmt.Errorf("state: key uses: %w", err)
	}
	add(KindPackages, packages)
	for i := range out { // when the last package of each key expires
		if out[i].Kind != KindPackages {
			continue
		}
		q := g.Model(&exportRow{}).Where("deleted_at IS NULL AND expires_at > ?", utcMicro(now))
		if out[i].KeyID == "" {
			q = q.Where("key_id IS NULL")
		} else {
			q = q.Where("key_id = ?", out[i].KeyID)
		}
		var last exportRow
		if err := q.Order("expires_at DESC").Limit(1).Take(&last).Error; err != nil {
			return nil, fmt.Errorf("state: key uses: %w", err)
		}
		out[i].Until = last.ExpiresAt.UTC()
	}
	return out, nil
}

// StampExportKeys records id as the export key of the packages recorded
// without one, and returns how many. Call it only when no previous export
// key is configured: the current key then made them all.
func StampExportKeys(ctx context.Context, db *DB, id string) (int, error) {
	res := db.Gorm.WithContext(ctx).Table("lethe_exports").Where("key_id IS NULL").Update("key_id", id)
	if res.Error != nil {
		return 0, fmt.Errorf("state: stamp export keys: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// TenantKeyOverlaps counts the tenant keys replaced by a rotation: those
// still valid until their expiry, and those past it (refused since).
func TenantKeyOverlaps(ctx context.Context, db *DB, now time.Time) (valid, expired int64, err error) {
	g := db.Gorm.WithContext(ctx)
	if err = g.Model(&tenantKeyRow{}).Where("revoked_at IS NULL AND expires_at > ?", utcMicro(now)).Count(&valid).Error; err == nil {
		err = g.Model(&tenantKeyRow{}).Where("revoked_at IS NULL AND expires_at <= ?", utcMicro(now)).Count(&expired).Error
	}
	if err != nil {
		err = fmt.Errorf("state: tenant key overlaps: %w", err)
	}
	return valid, expired, err
}
