package console

import (
	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// runSummary is a sweep with the counts the visitor may see: every count
// for the admin; for an owner, those of the studio's own rows, whether
// its own windows or the registry's purged them (a sweep, and a dry run
// alike, counts the rows of a collection with a tenant column per tenant).
type runSummary struct {
	*retention.Run
	Totals retention.Count
}

// retentionData is what the retention page shows.
type retentionData struct {
	Runs  []runSummary
	Chart *chart
}

// recentRuns returns up to n sweeps, newest first.
func (c *Console) recentRuns(v *Visit, n int) ([]runSummary, error) {
	if c.Runs == nil {
		return nil, nil
	}
	page, err := c.Runs.Runs(v.R.Context(), retention.RunFilter{Limit: n})
	if err != nil {
		return nil, err
	}
	out := make([]runSummary, 0, len(page.Items))
	for _, r := range page.Items {
		out = append(out, runSummary{Run: r, Totals: visibleTotals(v.Who, r)})
	}
	return out, nil
}

// visibleTotals sums the counts of r that who may see.
func visibleTotals(who *visitor, r *retention.Run) retention.Count {
	if who.Admin {
		return r.Totals()
	}
	mine := &retention.Run{}
	for _, c := range r.Counts {
		if c.Tenant == who.Tenant {
			mine.Counts = append(mine.Counts, c)
		}
	}
	return mine.Totals()
}

// retentionPage lists the sweeps with a chart of what each purged.
func (c *Console) retentionPage(v *Visit) error {
	runs, err := c.recentRuns(v, 50)
	if err != nil {
		return err
	}
	return v.Render("retention", "Retention", retentionData{Runs: runs, Chart: newChart(runs)})
}

// dryRunsPerStudio bounds the dry runs a studio's owners queue per
// limitWindow: each walks the whole registry.
const dryRunsPerStudio = 6

// dryRun queues a dry run: it counts what a sweep would purge and changes
// nothing. An owner queues one too (at most dryRunsPerStudio an hour) and,
// as for any sweep, sees only the studio's own counts.
func (c *Console) dryRun(v *Visit) error {
	if c.Runs == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	ctx := v.R.Context()
	if !v.Who.Admin {
		if err := c.Limiter.Limit(ctx, "console-dry-run", v.Who.Tenant, dryRunsPerStudio, limitWindow); err != nil {
			return err
		}
	}
	run, err := c.Runs.Queue(ctx, v.Caller().Actor(), true)
	if err != nil {
		return err
	}
	return v.Redirect("/console/retention", "Dry run "+run.ID+" queued: it counts what a sweep would purge and changes nothing. "+
		"Its counts show below once it has finished.")
}
