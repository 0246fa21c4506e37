package state

import (
	"context"
	"fmt"

	"github.com/lethe-privacy/lethe/dsr"
)

// Stats implements dsr.RequestStats: the figures /metrics exposes.
type Stats struct {
	DB *DB
}

// RequestCounts returns the number of requests by type and status.
func (s *Stats) RequestCounts(ctx context.Context) ([]dsr.RequestCount, error) {
	var out []dsr.RequestCount
	err := s.DB.Gorm.WithContext(ctx).Model(&requestRow{}).Select("type, status, count(*) AS n").Group("type, status").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("stats: request counts: %w", err)
	}
	return out, nil
}

// Overdue returns the number of open requests past their deadline.
func (s *Stats) Overdue(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.Gorm.WithContext(ctx).Model(&requestRow{}).Where("due_at < ? AND status IN ?", s.DB.now(), openStatuses()).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("stats: overdue: %w", err)
	}
	return n, nil
}
