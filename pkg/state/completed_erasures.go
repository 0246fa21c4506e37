package state

import (
	"context"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// CompletedErasures reads the erasures completed in the state store
// every replica shares, for the replicas' dictionaries of known people
// (knownpeople.ErasureLog): an erasure run by one replica reaches the
// others' dictionaries at their next walk.
type CompletedErasures struct {
	DB *DB
}

// CompletedSince returns the erasures completed at or after since, in the
// order they completed, at most limit: each with its id, tenant, subject
// hash and completion time only, for a final request keeps no address.
func (c *CompletedErasures) CompletedSince(ctx context.Context, since time.Time, limit int) ([]*dsr.Request, error) {
	var rows []requestRow
	err := c.DB.Gorm.WithContext(ctx).Select("id", "type", "status", "tenant", "subject", "finished_at").
		Where("type = ? AND status = ? AND finished_at >= ?", string(dsr.TypeErasure), string(dsr.StatusCompleted), utcMicro(since)).
		Order("finished_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("completed erasures: %w", err)
	}
	out := make([]*dsr.Request, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
