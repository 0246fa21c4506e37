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

// tenantSettingsRow is a row of lethe_tenant_settings.
type tenantSettingsRow struct {
	Tenant           string `gorm:"primaryKey"`
	Retention        string
	CollectResponses bool
	ObfuscateHistory bool
	ApproveErasure   bool
	ApproveAccess    bool
	UpdatedAt        time.Time `gorm:"autoUpdateTime:false"`
	UpdatedBy        string
}

func (tenantSettingsRow) TableName() string { return "lethe_tenant_settings" }

func (r *tenantSettingsRow) toDomain() *retention.Settings {
	s := &retention.Settings{Tenant: r.Tenant, Retention: map[string]string{}, UpdatedBy: r.UpdatedBy,
		CollectResponses: r.CollectResponses, ObfuscateHistory: r.ObfuscateHistory,
		Approval: dsr.ApprovalRule{Erasure: r.ApproveErasure, Access: r.ApproveAccess}}
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
		return &retention.Settings{Tenant: tenant, Retention: map[string]string{}, CollectResponses: true}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return row.toDomain(), nil
}

// PutSettings implements retention.SettingsStore. The audit entry
// ("settings.updated") carries the new settings and, under "changed", the
// names of the fields that changed; turning CollectResponses off also
// appends "settings.collect_responses.disabled", which the responses sweep
// then acts on.
func (s *TenantSettings) PutSettings(ctx context.Context, actor string, in *retention.Settings) (*retention.Settings, error) {
	return s.UpdateSettings(ctx, actor, in.Tenant, func(*retention.Settings) (*retention.Settings, error) { return in, nil })
}

// UpdateSettings implements retention.SettingsStore.
func (s *TenantSettings) UpdateSettings(ctx context.Context, actor, tenant string,
	change func(cur *retention.Settings) (*retention.Settings, error)) (*retention.Settings, error) {
	if err := dsr.ValidateTenant(tenant); err != nil {
		return nil, err
	}
	now := s.DB.now()
	var row *tenantSettingsRow
	var in *retention.Settings
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The row is created first if missing, so that there is always a row
		// to lock: two first updates of a tenant then wait for each other too.
		old := tenantSettingsRow{Tenant: tenant, Retention: "{}", CollectResponses: true, UpdatedAt: now, UpdatedBy: actor}
		created := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&old)
		if created.Error != nil {
			return created.Error
		}
		if err := s.DB.lock(tx).Where("tenant = ?", tenant).Take(&old).Error; err != nil {
			return err
		}
		cur := old.toDomain()
		if created.RowsAffected == 1 {
			// change sees what Settings answered before: never set.
			cur.UpdatedAt, cur.UpdatedBy = nil, ""
		}
		var err error
		if in, err = change(cur); err != nil {
			return err
		}
		in.Tenant = tenant
		row = &tenantSettingsRow{Tenant: tenant, Retention: encodeJSON(in.Retention), CollectResponses: in.CollectResponses,
			ObfuscateHistory: in.ObfuscateHistory, ApproveErasure: in.Approval.Erasure, ApproveAccess: in.Approval.Access,
			UpdatedAt: now, UpdatedBy: actor}
		err = tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant"}},
			DoUpdates: clause.AssignmentColumns([]string{"retention", "collect_responses", "obfuscate_history",
				"approve_erasure", "approve_access", "updated_at", "updated_by"})}).Create(row).Error
		if err != nil {
			return err
		}
		changed := []string{}
		if encodeJSON(old.toDomain().Retention) != encodeJSON(row.toDomain().Retention) {
			changed = append(changed, "retention")
		}
		if old.CollectResponses != row.CollectResponses {
			changed = append(changed, "collect_responses")
		}
		if old.ObfuscateHistory != row.ObfuscateHistory {
			changed = append(changed, "obfuscate_history")
		}
		if old.ApproveErasure != row.ApproveErasure || old.ApproveAccess != row.ApproveAccess {
			changed = append(changed, "approval")
		}
		if _, err = s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "settings.updated", Tenant: in.Tenant,
			Details: map[string]any{"retention": in.Retention, "collect_responses": in.CollectResponses,
				"obfuscate_history": in.ObfuscateHistory, "approval": in.Approval, "changed": changed}}); err != nil {
			return err
		}
		if old.CollectResponses && !row.CollectResponses {
			_, err = s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "settings.collect_responses.disabled",
				Tenant: in.Tenant, Details: map[string]any{"purge": "the tenant's responses are purged by the responses sweep"}})
		}
		return err
	})
	if dsr.ErrorCode(err) != dsr.EINTERNAL && err != nil {
		return nil, err // change refused it
	} else if err != nil {
		return nil, fmt.Errorf("save settings: %w", err)
	}
	return row.toDomain(), nil
}

// NotCollecting implements retention.SettingsStore.
func (s *TenantSettings) NotCollecting(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.DB.Gorm.WithContext(ctx).Model(&tenantSettingsRow{}).Where("collect_responses = ?", false).
		Order("tenant").Pluck("tenant", &out).Error; err != nil {
		return nil, fmt.Errorf("read tenants not collecting responses: %w", err)
	}
	return out, nil
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

// StudioApproval implements dsr.StudioApproval: the review gate the
// tenant chose in its settings.
func (s *TenantSettings) StudioApproval(ctx context.Context, tenant string) (dsr.ApprovalRule, error) {
	st, err := s.Settings(ctx, tenant)
	if err != nil {
		return dsr.ApprovalRule{}, err
	}
	return st.Approval, nil
}
