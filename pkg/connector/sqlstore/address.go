package sqlstore

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// addressable reports whether rows of table may be deleted by row address
// (ctid) on Postgres: only for a plain table without partitions or
// inheritance children. A ctid is unique within one physical table only, so
// on a partitioned or inherited table the same address names a row in every
// child, and a delete by address would take other people's rows with the
// subject's. Other dialects answer false. The answer is cached per table.
func (s *Store) addressable(ctx context.Context, c *registry.Collection) (bool, error) {
	if s.driver != registry.DriverPostgres {
		return false, nil
	}
	if v, ok := s.plain.Load(c.Table); ok {
		return v.(bool), nil
	}
	var plain bool
	err := s.db.WithContext(ctx).Raw(`SELECT relkind = 'r' AND NOT relhassubclass FROM pg_class WHERE oid = CAST(? AS regclass)`,
		registry.QuoteIdent(s.driver, c.Table)).Row().Scan(&plain)
	if err != nil {
		return false, s.fail(ctx, "inspect", c.Key, err)
	}
	s.plain.Store(c.Table, plain)
	return plain, nil
}
