package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lethe-privacy/lethe/dsr"
)

// ExportStore implements dsr.ExportStore on lethe_exports.
type ExportStore struct {
	DB *DB
}

var _ dsr.ExportStore = (*ExportStore)(nil)

type exportRow struct {
	RequestID string `gorm:"primaryKey"`
	Tenant    string
	Object    string
	Size      int64
	Entries   int
	CreatedAt time.Time
	ExpiresAt time.Time
	DeletedAt *time.Time
	ErasedBy  *string
	KeyID     *string
}

func (exportRow) TableName() string { return "lethe_exports" }

func (r *exportRow) toDomain() *dsr.Export {
	e := &dsr.Export{RequestID: r.RequestID, Tenant: r.Tenant, Object: r.Object, Size: r.Size, Entries: r.Entries,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.DeletedAt != nil {
		t := r.DeletedAt.UTC()
		e.DeletedAt = &t
	}
	if r.ErasedBy != nil {
		e.ErasedBy = *r.ErasedBy
	}
	if r.KeyID != nil {
		e.KeyID = *r.KeyID
	}
	return e
}

func utcMicro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// SaveExport implements dsr.ExportStore.
func (s *ExportStore) SaveExport(ctx context.Context, e *dsr.Export) error {
	row := exportRow{RequestID: e.RequestID, Tenant: e.Tenant, Object: e.Object, Size: e.Size, Entries: e.Entries,
		CreatedAt: utcMicro(e.CreatedAt), ExpiresAt: utcMicro(e.ExpiresAt), KeyID: strPtr(e.KeyID)}
	err := s.DB.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "request_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"tenant", "object", "size", "entries", "created_at", "expires_at", "deleted_at", "erased_by", "key_id"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("exports: save: %w", err)
	}
	return nil
}

// GetExport implements dsr.ExportStore.
func (s *ExportStore) GetExport(ctx context.Context, requestID string) (*dsr.Export, error) {
	var row exportRow
	err := s.DB.Gorm.WithContext(ctx).Where("request_id = ?", requestID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "no access package for this request")
	} else if err != nil {
		return nil, fmt.Errorf("exports: get: %w", err)
	}
	return row.toDomain(), nil
}

// ExpiredExports implements dsr.ExportStore.
func (s *ExportStore) ExpiredExports(ctx context.Context, now time.Time, limit int) ([]*dsr.Export, error) {
	var rows []exportRow
	err := s.DB.Gorm.WithContext(ctx).Where("deleted_at IS NULL AND expires_at <= ?", utcMicro(now)).
		Order("expires_at, request_id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("exports: expired: %w", err)
	}
	out := make([]*dsr.Export, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// MarkExportDeleted implements dsr.ExportStore.
func (s *ExportStore) MarkExportDeleted(ctx context.Context, requestID string, at time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Model(&exportRow{}).Where("request_id = ? AND deleted_at IS NULL", requestID).
		Update("deleted_at", utcMicro(at)).Error
	if err != nil {
		return fmt.Errorf("exports: mark deleted: %w", err)
	}
	return nil
}
