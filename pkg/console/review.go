package console

import (
	"encoding/json"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// heldPlan is the plan a held request was filed with, for its page; nil
// when the request was never held or its plan does not read as one.
func heldPlan(d *requestData) *engine.Plan {
	if d.Review == nil || len(d.Review.Plan) == 0 {
		return nil
	}
	var p engine.Plan
	if json.Unmarshal(d.Review.Plan, &p) != nil {
		return nil
	}
	return &p
}

// approveRequest lets a request waiting for approval run.
func (c *Console) approveRequest(v *Visit) error {
	r, err := c.Requests.Approve(v.R.Context(), v.Caller(), v.R.PathValue("id"))
	if err != nil {
		return c.requestError(v, err)
	}
	return v.Redirect("/console/requests/"+r.ID, "Request approved: it runs now.")
}

// denyRequest ends a request waiting for approval with a reason, which
// the person is told (the API's deny does the same).
func (c *Console) denyRequest(v *Visit) error {
	ctx := v.R.Context()
	r, err := c.Requests.Deny(ctx, v.Caller(), v.R.PathValue("id"), v.R.FormValue("deny-reason"))
	if err != nil {
		return c.requestError(v, err)
	}
	dsr.TellEnded(ctx, c.Ended, c.logger(), r)
	return v.Redirect("/console/requests/"+r.ID, "Request denied: the person is told why.")
}
