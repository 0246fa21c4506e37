package state

import (
	"context"
	"fmt"
	"strings"

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

// ProcessorsPending returns, by processor (the registry's store name), how
// many open requests wait for that processor to confirm an erasure: their
// "notify <processor>" step is still running.
func (s *Stats) ProcessorsPending(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Name string
		N    int64
	}
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT s.name AS name, count(*) AS n FROM lethe_request_steps s
		JOIN lethe_requests r ON r.id = s.request_id
		WHERE r.status IN ? AND s.name LIKE 'notify %' AND s.status = 'running' GROUP BY s.name`, openStatuses()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("stats: processors pending: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[strings.TrimPrefix(r.Name, "notify ")] = r.N
	}
	return out, nil
}
