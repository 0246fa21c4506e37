package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// tenantRow is a row of lethe_tenants.
type tenantRow struct {
	Slug           string `gorm:"primaryKey"`
	DisplayName    string
	LegalName      string
	PrivacyContact string
	OwnerEmails    string
	BrandColor     string
	Language       string
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
	UpdatedBy      string
}

func (tenantRow) TableName() string { return "lethe_tenants" }

func (r *tenantRow) toDomain() *dsr.Tenant {
	t := &dsr.Tenant{Slug: r.Slug, DisplayName: r.DisplayName, LegalName: r.LegalName, PrivacyContact: r.PrivacyContact,
		BrandColor: r.BrandColor, Language: r.Language, OwnerEmails: []string{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.OwnerEmails), &t.OwnerEmails)
	if t.OwnerEmails == nil {
		t.OwnerEmails = []string{}
	}
	return t
}

// Tenants implements dsr.TenantService over lethe_tenants. The audit
// trail records which fields changed, never their values: owner emails and
// the privacy contact are personal data.
type Tenants struct {
	DB    *DB
	Audit *AuditLog
	// Subject signs list cursors.
	Subject *dsr.SubjectHasher
}

var _ dsr.TenantService = (*Tenants)(nil)

// Create implements dsr.TenantService.
func (s *Tenants) Create(ctx context.Context, actor string, in *dsr.Tenant) (*dsr.Tenant, error) {
	t := *in
	t.OwnerEmails = append([]string(nil), in.OwnerEmails...)
	if err := t.Validate(); err != nil {
		return nil, err
	}
	now := s.DB.now()
	row := &tenantRow{Slug: t.Slug, DisplayName: t.DisplayName, LegalName: t.LegalName, PrivacyContact: t.PrivacyContact,
		OwnerEmails: encodeJSON(t.OwnerEmails), BrandColor: t.BrandColor, Language: t.Language, CreatedAt: now, UpdatedAt: now, UpdatedBy: actor}
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "tenant.created", Tenant: t.Slug,
			Details: map[string]any{"owners": len(t.OwnerEmails)}})
		return err
	})
	if err != nil && isUniqueViolation(err) {
		return nil, dsr.Errorf(dsr.ECONFLICT, "slug: tenant %s is already registered; change it with PUT /v1/tenants/%s", t.Slug, t.Slug)
	} else if err != nil {
		return nil, fmt.Errorf("register tenant: %w", err)
	}
	return row.toDomain(), nil
}

// Get implements dsr.TenantService.
func (s *Tenants) Get(ctx context.Context, slug string) (*dsr.Tenant, error) {
	var row tenantRow
	err := s.DB.Gorm.WithContext(ctx).Where("slug = ?", slug).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, unknownTenant(slug)
	} else if err != nil {
		return nil, fmt.Errorf("read tenant: %w", err)
	}
	return row.toDomain(), nil
}

// Known implements dsr.TenantService.
func (s *Tenants) Known(ctx context.Context, slug string) error {
	var n int64
	if err := s.DB.Gorm.WithContext(ctx).Model(&tenantRow{}).Where("slug = ?", slug).Count(&n).Error; err != nil {
		return fmt.Errorf("look up tenant: %w", err)
	}
	if n == 0 {
		return unknownTenant(slug)
	}
	return nil
}

// unknownTenant is the one message for a slug nobody registered. A slug
// that is not even valid is not repeated.
func unknownTenant(slug string) error {
	if dsr.ValidateTenant(slug) != nil {
		return dsr.Errorf(dsr.ENOTFOUND, "tenant: not a registered tenant; the admin registers studios with POST /v1/tenants")
	}
	return dsr.Errorf(dsr.ENOTFOUND, "tenant %s: not a registered tenant; the admin registers studios with POST /v1/tenants "+
		"(or lethe tenants create)", slug)
}

// List implements dsr.TenantService.
func (s *Tenants) List(ctx context.Context, cur string, limit int) (*dsr.TenantPage, error) {
	limit = pageLimit(limit)
	q := s.DB.Gorm.WithContext(ctx).Model(&tenantRow{})
	if cur != "" {
		c, err := decodeCursor(s.Subject, cur)
		if err != nil {
			return nil, err
		}
		q = q.Where("slug > ?", c.ID)
	}
	var rows []tenantRow
	if err := q.Order("slug").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	page := &dsr.TenantPage{Items: []*dsr.Tenant{}}
	for i := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(s.Subject, cursor{ID: rows[i-1].Slug})
			break
		}
		page.Items = append(page.Items, rows[i].toDomain())
	}
	return page, nil
}

// Update implements dsr.TenantService.
func (s *Tenants) Update(ctx context.Context, actor, slug string, p dsr.TenantProfile) (*dsr.Tenant, error) {
	var out *dsr.Tenant
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row tenantRow
		err := s.DB.lock(tx).Where("slug = ?", slug).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return unknownTenant(slug)
		} else if err != nil {
			return err
		}
		t := row.toDomain()
		changed := []string{}
		set := func(name string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed = append(changed, name)
			}
		}
		set("display_name", &t.DisplayName, p.DisplayName)
		set("legal_name", &t.LegalName, p.LegalName)
		set("privacy_contact", &t.PrivacyContact, p.PrivacyContact)
		set("brand_color", &t.BrandColor, p.BrandColor)
		set("language", &t.Language, p.Language)
		owners := encodeJSON(t.OwnerEmails)
		if p.OwnerEmails != nil {
			t.OwnerEmails = append([]string{}, (*p.OwnerEmails)...)
		}
		if err := t.Validate(); err != nil { // folds the owners before they are compared
			return err
		}
		if encodeJSON(t.OwnerEmails) != owners {
			changed = append(changed, "owner_emails")
		}
		now := s.DB.now()
		row = tenantRow{Slug: slug, DisplayName: t.DisplayName, LegalName: t.LegalName, PrivacyContact: t.PrivacyContact,
			OwnerEmails: encodeJSON(t.OwnerEmails), BrandColor: t.BrandColor, Language: t.Language, CreatedAt: row.CreatedAt, UpdatedAt: now, UpdatedBy: actor}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		_, err = s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: actor, Action: "tenant.updated", Tenant: slug,
			Details: map[string]any{"changed": changed}})
		return err
	})
	if code := dsr.ErrorCode(err); code != "" && code != dsr.EINTERNAL {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("update tenant %s: %w", slug, err)
	}
	return out, nil
}
