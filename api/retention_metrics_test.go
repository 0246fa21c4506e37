package api_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/api"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRetentionMetricsGathered: every retention metric is described and
// collected once something was observed.
func TestRetentionMetricsGathered(t *testing.T) {
	m := api.NewRetentionMetrics()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	finished := time.Now()
	m.Batch("app.messages", 3, 1, 20*time.Millisecond)
	m.Finished(&retention.Run{Status: retention.StatusCompleted, FinishedAt: &finished,
		Counts: []retention.Count{{Collection: "app.messages", RowsHeld: 2}}})
	m.Finished(&retention.Run{Kind: retention.KindResponses, Status: retention.StatusCompleted, FinishedAt: &finished})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range []string{"lethe_retention_rows_total", "lethe_retention_files_deleted_total",
		"lethe_retention_batch_duration_seconds", "lethe_retention_rows_held",
		"lethe_retention_last_run_timestamp_seconds", "lethe_responses_purge_runs_total"} {
		if !got[name] {
			t.Errorf("%s not gathered (got %v)", name, got)
		}
	}
}
