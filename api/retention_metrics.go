package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lethe-privacy/lethe/retention"
)

// RetentionMetrics implements retention.Observer as Prometheus metrics:
// rows and files purged per collection, batch latency, rows held and the
// time of the last run, as seen by the replica that swept. Labels name
// collections ("<store>.<collection>"), never people.
type RetentionMetrics struct {
	rows    *prometheus.CounterVec
	files   *prometheus.CounterVec
	batches prometheus.Histogram
	held    *prometheus.GaugeVec
	lastRun *prometheus.GaugeVec
	// responses counts the runs of the responses sweep, by status.
	responses *prometheus.CounterVec
}

var _ retention.Observer = (*RetentionMetrics)(nil)

// NewRetentionMetrics returns the metrics; register them on a registry.
func NewRetentionMetrics() *RetentionMetrics {
	m := &RetentionMetrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lethe_retention_rows_total",
			Help: "Rows purged, anonymised or redacted by retention sweeps, by collection."}, []string{"collection"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lethe_retention_files_deleted_total",
			Help: "Files of purged rows deleted from their blob store, by collection."}, []string{"collection"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lethe_retention_batch_duration_seconds",
			Help: "Duration of one retention batch (one statement, one transaction).", Buckets: prometheus.DefBuckets}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lethe_retention_rows_held",
			Help: "Expired rows kept by legal holds at the last sweep, by collection."}, []string{"collection"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lethe_retention_last_run_timestamp_seconds",
			Help: "When this replica's last retention sweep finished, by status."}, []string{"status"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lethe_responses_purge_runs_total",
			Help: "Runs of the sweep purging the responses of tenants that stopped collecting them, by status."}, []string{"status"}),
	}
	// Both outcomes start at 0, so that increase() sees the first failure.
	m.responses.WithLabelValues(string(retention.StatusCompleted))
	m.responses.WithLabelValues(string(retention.StatusFailed))
	return m
}

// Batch implements retention.Observer.
func (m *RetentionMetrics) Batch(collection string, rows, files int64, took time.Duration) {
	m.rows.WithLabelValues(collection).Add(float64(rows))
	if files > 0 {
		m.files.WithLabelValues(collection).Add(float64(files))
	}
	m.batches.Observe(took.Seconds())
}

// Finished implements retention.Observer; dry runs only count as runs, and
// responses runs only in lethe_responses_purge_runs_total.
func (m *RetentionMetrics) Finished(r *retention.Run) {
	if r.Kind == retention.KindResponses {
		m.responses.WithLabelValues(string(r.Status)).Inc()
		return
	}
	if r.FinishedAt != nil && !r.DryRun {
		m.lastRun.WithLabelValues(string(r.Status)).Set(float64(r.FinishedAt.Unix()))
		held := map[string]int64{}
		for _, c := range r.Counts {
			held[c.Collection] += c.RowsHeld
		}
		for col, n := range held {
			m.held.WithLabelValues(col).Set(float64(n))
		}
	}
}

// collectors are the metrics of m.
func (m *RetentionMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.rows, m.files, m.batches, m.held, m.lastRun, m.responses}
}

// Describe implements prometheus.Collector.
func (m *RetentionMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *RetentionMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// LastSweepCollector exports when the last real sweep completed, read from
// the state store at scrape time so every replica reports the same.
type LastSweepCollector struct {
	Last func(ctx context.Context) (*time.Time, error)
	desc *prometheus.Desc
}

// NewLastSweepCollector returns a collector over last.
func NewLastSweepCollector(last func(ctx context.Context) (*time.Time, error)) *LastSweepCollector {
	return &LastSweepCollector{Last: last, desc: prometheus.NewDesc("lethe_retention_last_success_timestamp_seconds",
		"When the last retention sweep completed (any replica); 0 before the first.", nil, nil)}
}

// NewFailedSweepCollector returns a collector of when the last real sweep
// failed, read by last: a sweep error on whichever replica swept, newer
// than lethe_retention_last_success_timestamp_seconds until a sweep
// completes again.
func NewFailedSweepCollector(last func(ctx context.Context) (*time.Time, error)) *LastSweepCollector {
	return &LastSweepCollector{Last: last, desc: prometheus.NewDesc("lethe_retention_last_failure_timestamp_seconds",
		"When the last retention sweep failed (any replica); 0 if none did.", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *LastSweepCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *LastSweepCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, err := c.Last(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	v := 0.0
	if t != nil {
		v = float64(t.Unix())
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v)
}
