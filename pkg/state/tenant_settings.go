package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// tenantSettingsRow is a row of lethe_tenant_settings. CollectResponses and
// ObfuscateHistory belong to the owner-side privacy features; they keep
// their defaults until those land.
type tenantSettingsRow struct {
	Tenant           string `gorm:"primaryKey"`
	Retention        string
	CollectResponses bool
	ObfuscateHistory bool
	UpdatedAt        time.Time `gorm:"autoUpdateTime:false"`
	UpdatedBy        string
}

func (tenantSettingsRow) TableName() string { return "lethe_tenant_settings" }

func (r *tenantSettingsRow) toDomain() *retention.Settings {
	s := &retention.Settings{Tenant: r.Tenant, Retention: map[string]string{}, UpdatedBy: r.UpdatedBy}
	_ = json.Unmarshal([]byte(r.Retention), &s.Retention)
	if s.Retention == nil {
		s.Retention = map[string]string{}
	}
	t := r.UpdatedAt.UTC()
	s.UpdatedAt = &t
	return s
}

// TenantSettings implements retention.SettingsStore.
type TenantSettings struct {
	DB    *DB
	Audit *AuditLog
}

var _ retention.SettingsStore = (*TenantSettings)(nil)

// Settings implements retention.SettingsStore.
func (s *TenantSettings) Settings(ctx context.Context, tenant string) (*retention.Settings, error) {
	var row tenantSettingsRow
	err := s.DB.Gorm.WithContext(ctx).Where("tenant = ?", tenant).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &retention.Settings{Tenant: tenant, Retention: map[string]string{}}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return row.toDomain(), nil
}

// PutSettings implements retention.SettingsStore.
func (s *TenantSettings) PutSettings(ctx context.Context, actor string, in *retention.Settings) (*retention.Settings, error) {
	if err := dsr.ValidateTenant(in.Tenant); err != nil {
		return nil, err
	}
	now := s.DB.now()
	row := &tenantSettingsRow{Tenant: in.Tenant, Retention: encodeJSON(in.Retention), CollectResponses: true,
		UpdatedAt: now, UpdatedBy: actor}
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant"}},
			DoUpdates: clause.AssignmentColumns([]string{"retention", "updated_at", "updated_by"})}).Create(row).Error
		if err != nil {
			return err
		}
		_, err = s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "settings.updated", Tenant: in.Tenant,
			Details: map[string]any{"retention": in.Retention}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save settings: %w", err)
	}
	return row.toDomain(), nil
}

// Overrides implements retention.SettingsStore.
func (s *TenantSettings) Overrides(ctx context.Context) (map[string]map[string]string, error) {
	var rows []tenantSettingsRow
	if err := s.DB.Gorm.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read overrides: %w", err)
	}
	out := map[string]map[string]string{}
	for i := range rows {
		if r := rows[i].toDomain().Retention; len(r) > 0 {
			out[rows[i].Tenant] = r
		}
	}
	return out, nil
}
