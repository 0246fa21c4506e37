package state

import (
	"context"
	"fmt"
	"time"
)

// Hit counts one hit on bucket in fixed windows of length window and
// returns the hits in the current window and when it started. The count
// lives in the state store, so every replica sharing it sees the same
// limits; the increment is one atomic upsert.
func (s *SelfStore) Hit(ctx context.Context, bucket string, window time.Duration) (int, time.Time, error) {
	now := s.DB.now()
	stale := now.Add(-window)
	var out struct {
		Hits        int
		WindowStart time.Time
	}
	// The SET expressions read the row as it was before the update, in
	// Postgres and SQLite alike.
	err := s.DB.Gorm.WithContext(ctx).Raw(`INSERT INTO lethe_self_limits (bucket, window_start, hits) VALUES (?, ?, 1)
ON CONFLICT (bucket) DO UPDATE SET
  hits = CASE WHEN lethe_self_limits.window_start <= ? THEN 1 ELSE lethe_self_limits.hits + 1 END,
  window_start = CASE WHEN lethe_self_limits.window_start <= ? THEN excluded.window_start ELSE lethe_self_limits.window_start END
RETURNING hits, window_start`, bucket, now, stale, stale).Scan(&out).Error
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("self-service: rate limit: %w", err)
	}
	return out.Hits, out.WindowStart.UTC(), nil
}

// PruneLimits deletes the counters whose window started before before.
func (s *SelfStore) PruneLimits(ctx context.Context, before time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Exec("DELETE FROM lethe_self_limits WHERE window_start < ?", utcMicro(before)).Error
	if err != nil {
		return fmt.Errorf("self-service: prune rate limits: %w", err)
	}
	return nil
}

// Release takes back one hit on bucket in its current window of length
// window; nothing when the window ended or holds no hit.
func (s *SelfStore) Release(ctx context.Context, bucket string, window time.Duration) error {
	err := s.DB.Gorm.WithContext(ctx).Exec(`UPDATE lethe_self_limits SET hits = hits - 1 WHERE bucket = ? AND window_start > ? AND hits > 0`,
		bucket, s.DB.now().Add(-window)).Error
	if err != nil {
		return fmt.Errorf("self-service: rate limit: %w", err)
	}
	return nil
}
