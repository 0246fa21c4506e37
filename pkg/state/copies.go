package state

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// Copies finds and forgets what the state store keeps of a person whose
// data is being erased: the records of their access packages, their
// self-service rows and outbox addresses, and any address or frozen key an
// ended request of theirs still holds. pkg/export's Copies adds the
// packages themselves.
type Copies struct {
	DB   *DB
	Self *SelfStore // cancels the person's requests still waiting for a code
}

// subjectRequests returns the ids query of the requests of s's subjects
// within s's tenant, other than the erasure itself, in the statuses given
// (every status when none is).
func (c *Copies) subjectRequests(tx *gorm.DB, s dsr.CopyScope, statuses ...dsr.Status) *gorm.DB {
	subjects := make([]string, len(s.Subjects))
	for i, sub := range s.Subjects {
		subjects[i] = string(sub)
	}
	q := tx.Model(&requestRow{}).Select("id").Where("subject IN ? AND id <> ?", subjects, s.RequestID)
	if s.Tenant != "" {
		q = q.Where("tenant = ?", s.Tenant)
	}
	if len(statuses) > 0 {
		names := make([]string, len(statuses))
		for i, st := range statuses {
			names[i] = string(st)
		}
		q = q.Where("status IN ?", names)
	}
	return q
}

func terminalStatuses() []dsr.Status {
	return []dsr.Status{dsr.StatusCompleted, dsr.StatusFailed, dsr.StatusCancelled, dsr.StatusDenied}
}

// SubjectExports returns the package records of the access requests of s,
// deleted or not. Errors: the store's.
func (c *Copies) SubjectExports(ctx context.Context, s dsr.CopyScope) ([]*dsr.Export, error) {
	db := c.DB.Gorm.WithContext(ctx)
	var rows []exportRow
	if err := db.Where("request_id IN (?)", c.subjectRequests(db, s)).Order("request_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("copies: packages of the subject: %w", err)
	}
	out := make([]*dsr.Export, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// MarkExportErased records that the package of request id was deleted at
// at by erasure erasedBy, unless it was deleted before.
func (c *Copies) MarkExportErased(ctx context.Context, id, erasedBy string, at time.Time) error {
	err := c.DB.Gorm.WithContext(ctx).Model(&exportRow{}).Where("request_id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": utcMicro(at), "erased_by": erasedBy}).Error
	if err != nil {
		return fmt.Errorf("copies: mark the package of request %s erased: %w", id, err)
	}
	return nil
}

// ForgetSubject cancels s's requests still waiting for a code, deletes the
// self-service rows of its ended requests (their unsent notices with
// them: a link to a deleted package helps no one) and clears any address
// or frozen key an ended request still holds, in one transaction. It
// returns the self-service rows removed, the cancelled requests' included.
func (c *Copies) ForgetSubject(ctx context.Context, s dsr.CopyScope) (int64, error) {
	var n int64
	err := c.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var waiting []requestRow
		if err := c.DB.lock(tx).Where("id IN (?)", c.subjectRequests(tx, s, dsr.StatusVerifying)).Order("id").Find(&waiting).Error; err != nil {
			return err
		}
		now := c.DB.now()
		for i := range waiting {
			msg := "superseded: the person's data was erased by request " + s.RequestID
			if err := c.Self.end(tx, &waiting[i], dsr.StatusCancelled, dsr.ECONFLICT, msg, now); err != nil {
				return err
			}
		}
		ended := c.subjectRequests(tx, s, terminalStatuses()...)
		res := tx.Where("request_id IN (?)", ended).Delete(&selfRow{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected // the cancelled ones among them
		if err := tx.Model(&requestRow{}).Where("id IN (?) AND email IS NOT NULL", ended).Update("email", nil).Error; err != nil {
			return err
		}
		return tx.Where("request_id IN (?)", ended).Delete(&keyRow{}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("copies: forget the subject's self-service rows: %w", err)
	}
	return n, nil
}

// HeldAddresses counts what the state store still holds in clear of s's
// ended or unverified requests: addresses in lethe_self_requests and
// lethe_requests, and frozen keys in lethe_request_keys, by
// "lethe.<table>". Requests still being carried out are not counted: they
// hold the address until they end.
func (c *Copies) HeldAddresses(ctx context.Context, s dsr.CopyScope) (map[string]int64, error) {
	db := c.DB.Gorm.WithContext(ctx)
	done := append(terminalStatuses(), dsr.StatusVerifying)
	out := map[string]int64{}
	for _, q := range []struct {
		key   string
		model any
		where string
	}{
		{"lethe.self_requests", &selfRow{}, "email IS NOT NULL AND request_id IN (?)"},
		{"lethe.requests", &requestRow{}, "email IS NOT NULL AND id IN (?)"},
		{"lethe.request_keys", &keyRow{}, "request_id IN (?)"},
	} {
		var n int64
		if err := db.Model(q.model).Where(q.where, c.subjectRequests(db, s, done...)).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("copies: count %s: %w", q.key, err)
		}
		if n > 0 {
			out[q.key] = n
		}
	}
	return out, nil
}
