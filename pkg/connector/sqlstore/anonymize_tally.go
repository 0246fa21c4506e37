package sqlstore

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/retention"
)

// AnonymizeTally implements retention.Store: Anonymize of t.Sel's rows,
// whose batch read also reads each row's tenant (t.By, or the sub-selects
// through t.Via that Rewrite reads it with), counted per tenant.
func (s *Store) AnonymizeTally(ctx context.Context, t retention.Tally, a connector.Anonymization, after *string, limit int) ([]retention.TallyGroup, string, error) {
	_, last, tenants, err := s.anonymize(ctx, t, a, after, limit, nil)
	if err != nil {
		return nil, "", err
	}
	vals := make([]any, len(tenants))
	for i, tn := range tenants {
		if tn != nil {
			vals[i] = *tn
		}
	}
	return retention.GroupValues(vals), last, nil
}
