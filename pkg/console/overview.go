package console

import (
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// maxListed bounds the requests a list page reads.
const maxListed = 500

// overviewData is what the overview shows.
type overviewData struct {
	Open []openRequest
	// Waiting are the open requests the review gate holds.
	Waiting  []openRequest
	Overdue  int
	Runs     []runSummary
	Settings *retention.Settings // nil for the admin
	Rules    []retention.Rule
}

// openRequest is a request not yet ended, with its deadline.
type openRequest struct {
	*dsr.Request
	Overdue  bool
	DaysLeft int
}

// overview lists the open requests, overdue first then by deadline, the
// last sweeps and, for an owner, the studio's switches.
func (c *Console) overview(v *Visit) error {
	ctx := v.R.Context()
	open, err := c.openRequests(v)
	if err != nil {
		return err
	}
	d := overviewData{Open: open}
	for _, r := range open {
		if r.Overdue {
			d.Overdue++
		}
		if r.Status == dsr.StatusAwaitingApproval {
			d.Waiting = append(d.Waiting, r)
		}
	}
	if d.Runs, err = c.recentRuns(v, 5); err != nil {
		return err
	}
	if !v.Who.Admin && c.Settings != nil {
		if d.Settings, err = c.Settings.Settings(ctx, v.Who.Tenant); err != nil {
			return err
		}
		if c.Registry != nil {
			d.Rules = retention.Rules(c.Registry, d.Settings.Retention)
		}
	}
	return v.Render("overview", "Overview", d)
}

// openRequests returns the visitor's requests not yet ended, overdue first,
// then by deadline.
func (c *Console) openRequests(v *Visit) ([]openRequest, error) {
	all, err := c.listRequests(v, dsr.RequestFilter{})
	if err != nil {
		return nil, err
	}
	now := c.now()
	var out []openRequest
	for _, r := range all {
		if !r.Status.Terminal() {
			out = append(out, openRequest{Request: r, Overdue: r.Overdue(now), DaysLeft: int(r.DueAt.Sub(now) / (24 * time.Hour))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Overdue != out[j].Overdue {
			return out[i].Overdue
		}
		return out[i].DueAt.Before(out[j].DueAt)
	})
	return out, nil
}

// listRequests pages through the visitor's requests, newest first, up to
// maxListed.
func (c *Console) listRequests(v *Visit, f dsr.RequestFilter) ([]*dsr.Request, error) {
	var out []*dsr.Request
	f.Limit = 200
	for len(out) < maxListed {
		page, err := c.Requests.List(v.R.Context(), v.Caller(), f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
	}
	return out, nil
}
