package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// DefaultMaxPlanKeys is the number of redis keys a plan counts per store
// before it stops and reports "at least".
const DefaultMaxPlanKeys = 10000

// PlanKeys is one redis store of a Plan.
type PlanKeys struct {
	Store string `json:"store"`
	// Count is the number of keys the store's templates match, each
	// counted once.
	Count int64 `json:"count"`
	// AtLeast is true when counting stopped at the engine's MaxPlanKeys:
	// there are more.
	AtLeast bool `json:"at_least"`
	// Counted is false when the store is not configured where the plan
	// ran (lethe plan without its address): the keys were not looked up.
	Counted bool `json:"counted"`
}

var errEnough = errors.New("engine: enough keys counted")

// planKeys counts, store by store, the keys the redis templates filled
// with the targets' live values match, with SCAN as the erasure does,
// up to MaxPlanKeys per store. Nothing is deleted.
func (r *run) planKeys(ctx context.Context, targets []*target) ([]PlanKeys, error) {
	out := []PlanKeys{}
	limit := cmp.Or(r.e.MaxPlanKeys, DefaultMaxPlanKeys)
	for _, st := range r.redisStores() {
		pk := PlanKeys{Store: st.Name}
		ks := r.e.KeyStores[st.Name]
		if ks == nil {
			out = append(out, pk)
			continue
		}
		pk.Counted = true
		pats, err := r.keyPatterns(ctx, st, targets, false)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, p := range pats {
			err := ks.Scan(ctx, p, func(keys []string) error {
				for _, k := range keys {
					if len(seen) == limit {
						pk.AtLeast = true
						return errEnough
					}
					seen[k] = true
				}
				return nil
			})
			if errors.Is(err, errEnough) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("count keys of store %s: %w", st.Name, err)
			}
		}
		pk.Count = int64(len(seen))
		out = append(out, pk)
	}
	return out, nil
}
