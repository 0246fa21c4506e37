package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// tokenPrefix starts every tenant key, so a leaked one is easy to recognise.
const tokenPrefix = "lethe_"

type tenantKeyRow struct {
	ID         string `gorm:"primaryKey"`
	Tenant     string
	SecretHash string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	RevokedAt  *time.Time
	ExpiresAt  *time.Time
}

func (tenantKeyRow) TableName() string { return "lethe_tenant_keys" }

// KeyService implements dsr.KeyService. Tokens are "lethe_<id>_<secret>";
// only the SHA-256 of the 256-bit secret is stored.
type KeyService struct {
	DB    *DB
	Audit *AuditLog
}

var _ dsr.KeyService = (*KeyService)(nil)

// Create implements dsr.KeyService.
func (s *KeyService) Create(ctx context.Context, actor, tenant string) (*dsr.TenantKey, error) {
	if err := dsr.ValidateTenant(tenant); err != nil {
		return nil, err
	}
	var out *dsr.TenantKey
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = s.create(tx, actor, tenant, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create tenant key: %w", err)
	}
	return out, nil
}

// create issues a key for tenant in tx and audits it, with details added
// to the audit entry's.
func (s *KeyService) create(tx *gorm.DB, actor, tenant string, details map[string]any) (*dsr.TenantKey, error) {
	idb, secret := make([]byte, 8), make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	id, sec := hex.EncodeToString(idb), base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(sec))
	row := &tenantKeyRow{ID: id, Tenant: tenant, SecretHash: hex.EncodeToString(sum[:]), CreatedAt: s.DB.now()}
	if err := tx.Create(row).Error; err != nil {
		return nil, err
	}
	d := map[string]any{"key_id": id}
	for k, v := range details {
		d[k] = v
	}
	if _, err := s.Audit.appendTx(tx, row.CreatedAt, dsr.AuditEvent{Actor: actor, Action: "key.created", Tenant: tenant, Details: d}); err != nil {
		return nil, err
	}
	return &dsr.TenantKey{ID: id, Tenant: tenant, CreatedAt: row.CreatedAt, Token: tokenPrefix + id + "_" + sec}, nil
}

// Rotate implements dsr.KeyService: the new key and the old one's expiry
// are stored, and audited, in one transaction.
func (s *KeyService) Rotate(ctx context.Context, actor, tenant, id string, oldUntil time.Time) (*dsr.TenantKey, error) {
	now := s.DB.now()
	switch {
	case !oldUntil.After(now):
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "old_valid_until: %s is not in the future; revoke the key instead to stop it now", oldUntil.UTC().Format(time.RFC3339))
	case oldUntil.Sub(now) > dsr.MaxKeyOverlap:
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "old_valid_until: at most %d days from now", int(dsr.MaxKeyOverlap.Hours()/24))
	}
	until := oldUntil.UTC().Truncate(time.Second)
	var out *dsr.TenantKey
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old tenantKeyRow
		err := s.DB.lock(tx).Where("id = ? AND tenant = ?", id, tenant).Take(&old).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return dsr.Errorf(dsr.ENOTFOUND, "key %s of tenant %s not found", id, tenant)
		} else if err != nil {
			return err
		}
		if old.RevokedAt != nil || (old.ExpiresAt != nil && !now.Before(*old.ExpiresAt)) {
			return dsr.Errorf(dsr.ECONFLICT, "key %s of tenant %s is revoked or expired: create a new key instead", id, tenant)
		}
		if old.ExpiresAt != nil && old.ExpiresAt.Before(until) {
			until = old.ExpiresAt.UTC() // a rotation never lengthens a key's life
		}
		if err := tx.Model(&tenantKeyRow{}).Where("id = ?", id).Update("expires_at", until).Error; err != nil {
			return err
		}
		if out, err = s.create(tx, actor, tenant, map[string]any{"replaces": id, "old_valid_until": until.Format(time.RFC3339)}); err == nil {
			out.OldValidUntil = &until
		}
		return err
	})
	if err != nil && dsr.ErrorCode(err) == dsr.EINTERNAL {
		return nil, fmt.Errorf("rotate tenant key: %w", err)
	}
	return out, err
}

// Revoke implements dsr.KeyService. Revoking a revoked key is a no-op.
func (s *KeyService) Revoke(ctx context.Context, actor, tenant, id string) error {
	return s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.DB.now()
		res := tx.Model(&tenantKeyRow{}).Where("id = ? AND tenant = ?", id, tenant).Where("revoked_at IS NULL").Update("revoked_at", now)
		if res.Error != nil {
			return fmt.Errorf("revoke tenant key: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&tenantKeyRow{}).Where("id = ? AND tenant = ?", id, tenant).Count(&n).Error; err != nil {
				return err
			} else if n == 0 {
				return dsr.Errorf(dsr.ENOTFOUND, "key %s of tenant %s not found", id, tenant)
			}
			return nil
		}
		_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "key.revoked", Tenant: tenant,
			Details: map[string]any{"key_id": id}})
		return err
	})
}

// Authenticate implements dsr.KeyService.
func (s *KeyService) Authenticate(ctx context.Context, token string) (*dsr.TenantKey, error) {
	unauthorized := dsr.Errorf(dsr.EUNAUTHORIZED, "invalid or revoked token")
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	id, sec, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || len(id) != 16 {
		return nil, unauthorized
	}
	var row tenantKeyRow
	err := s.DB.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, unauthorized
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	sum := sha256.Sum256([]byte(sec))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(row.SecretHash)) != 1 || row.RevokedAt != nil {
		return nil, unauthorized
	}
	if row.ExpiresAt != nil && !s.DB.now().Before(*row.ExpiresAt) {
		return nil, dsr.Errorf(dsr.EUNAUTHORIZED, "this tenant key was rotated and expired on %s: use its replacement", row.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return &dsr.TenantKey{ID: row.ID, Tenant: row.Tenant, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: utcPtr(row.ExpiresAt)}, nil
}
