package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// Notice returns the outbox address of request id, "" when it is no
// self-service request, was never verified, or its notice is already sent.
func (s *SelfStore) Notice(ctx context.Context, id string) (string, error) {
	var row selfRow
	err := s.DB.Gorm.WithContext(ctx).Where("request_id = ? AND verified_at IS NOT NULL", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("self-service: outbox: %w", err)
	}
	if row.Email == nil {
		return "", nil
	}
	return *row.Email, nil
}

// Language returns the tag of the language the person of request id
// asked in, "" when it is no self-service request or they named none.
func (s *SelfStore) Language(ctx context.Context, id string) (string, error) {
	var langs []string
	err := s.DB.Gorm.WithContext(ctx).Model(&selfRow{}).Where("request_id = ?", id).Limit(1).Pluck("language", &langs).Error
	if err != nil {
		return "", fmt.Errorf("self-service: language of request %s: %w", id, err)
	}
	if len(langs) == 0 {
		return "", nil
	}
	return langs[0], nil
}

// Forget removes the outbox address of request id once its notice is
// sent: Lethe then holds the address nowhere.
func (s *SelfStore) Forget(ctx context.Context, id string) error {
	err := s.DB.Gorm.WithContext(ctx).Model(&selfRow{}).Where("request_id = ?", id).Update("email", nil).Error
	if err != nil {
		return fmt.Errorf("self-service: outbox: forget: %w", err)
	}
	_ = s.DB.Scrub(ctx) // best effort: the next checkpoint does it anyway
	return nil
}

// PendingNotices returns up to limit notices of verified requests that
// ended before endedBefore and whose notice is not sent yet, oldest first:
// what a failed send left for a retry.
func (s *SelfStore) PendingNotices(ctx context.Context, endedBefore time.Time, limit int) ([]dsr.SelfNotice, error) {
	var due []struct {
		RequestID string
		Email     string
	}
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT s.request_id, s.email FROM lethe_self_requests s
JOIN lethe_requests r ON r.id = s.request_id
WHERE s.email IS NOT NULL AND s.verified_at IS NOT NULL AND r.finished_at IS NOT NULL AND r.finished_at < ?
ORDER BY r.finished_at, r.id LIMIT ?`, utcMicro(endedBefore), limit).Scan(&due).Error
	if err != nil {
		return nil, fmt.Errorf("self-service: outbox: pending: %w", err)
	}
	out := make([]dsr.SelfNotice, 0, len(due))
	for _, d := range due {
		row, err := s.Requests.load(ctx, s.DB.Gorm, d.RequestID)
		if err != nil {
			return nil, fmt.Errorf("self-service: outbox: pending: %w", err)
		}
		out = append(out, dsr.SelfNotice{Request: row.toDomain(), Email: d.Email})
	}
	return out, nil
}

// selfLinkRow is a row of lethe_self_links.
type selfLinkRow struct {
	TokenHash string `gorm:"primaryKey"`
	RequestID string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt time.Time
}

func (selfLinkRow) TableName() string { return "lethe_self_links" }

// SaveLink stores the hash of a download link's token for request id,
// valid until expires, replacing the request's earlier links.
func (s *SelfStore) SaveLink(ctx context.Context, id, tokenHash string, expires time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("request_id = ?", id).Delete(&selfLinkRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&selfLinkRow{TokenHash: tokenHash, RequestID: id, CreatedAt: s.DB.now(), ExpiresAt: utcMicro(expires)}).Error
	})
	if err != nil {
		return fmt.Errorf("self-service: save link: %w", err)
	}
	return nil
}

// Link returns the request and expiry of the link whose token has
// tokenHash; ENOTFOUND when there is none.
func (s *SelfStore) Link(ctx context.Context, tokenHash string) (string, time.Time, error) {
	var row selfLinkRow
	err := s.DB.Gorm.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", time.Time{}, dsr.Errorf(dsr.ENOTFOUND, "this download link does not exist: use the link from the latest email")
	} else if err != nil {
		return "", time.Time{}, fmt.Errorf("self-service: link: %w", err)
	}
	return row.RequestID, row.ExpiresAt.UTC(), nil
}

// PruneLinks deletes the links that expired before before.
func (s *SelfStore) PruneLinks(ctx context.Context, before time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Where("expires_at < ?", utcMicro(before)).Delete(&selfLinkRow{}).Error
	if err != nil {
		return fmt.Errorf("self-service: prune links: %w", err)
	}
	return nil
}

// AbandonNotices forgets the addresses of notices still unsent for
// requests that ended before endedBefore: a mailbox that refuses for that
// long will not accept, and the address must not be kept for ever. Each is
// audited as "notice.abandoned". It returns how many.
func (s *SelfStore) AbandonNotices(ctx context.Context, endedBefore time.Time) (int, error) {
	n := 0
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []requestRow
		err := s.DB.lock(tx).Where(`finished_at < ? AND id IN (SELECT request_id FROM lethe_self_requests
			WHERE email IS NOT NULL AND verified_at IS NOT NULL)`, utcMicro(endedBefore)).Order("id").Find(&rows).Error
		if err != nil {
			return err
		}
		now := s.DB.now()
		for _, r := range rows {
			if err := tx.Model(&selfRow{}).Where("request_id = ?", r.ID).Update("email", nil).Error; err != nil {
				return err
			}
			if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: "lethe", Action: "notice.abandoned", RequestID: r.ID,
				Tenant: r.Tenant, Subject: dsr.Subject(r.Subject), Details: map[string]any{"reason": "not accepted by the mail server before the deadline; address forgotten"}}); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("self-service: outbox: abandon: %w", err)
	}
	return n, nil
}
