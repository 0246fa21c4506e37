package engine

import (
	"context"
	"encoding/json"
)

// PlanJSON is Plan encoded as JSON: the dsr.PlanFunc the review gate
// attaches to a request it holds. Errors as for Plan.
func (e *Engine) PlanJSON(ctx context.Context, email, tenant string) (json.RawMessage, error) {
	p, err := e.Plan(ctx, email, tenant)
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}
