package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AuditStatus is the last verification of the audit chain: whether it
// held, and when it ran.
type AuditStatus struct {
	OK bool
	At time.Time
}

// WatchCollector exports the figures an operator alerts on that are read
// from the state store at scrape time, so every replica reports the same:
// processor confirmations awaited, live and stale processes, and the last
// verification of the audit chain. A nil function leaves its metrics out.
// Labels name processors (registry store names), never people.
type WatchCollector struct {
	// Processors returns the open requests awaiting each processor's
	// confirmation.
	Processors func(ctx context.Context) (map[string]int64, error)
	// ProcessorNames are the registry's processors, reported at 0 when
	// nothing awaits them.
	ProcessorNames []string
	// Processes returns the processes that beat within three beats, and
	// the others not yet forgotten.
	Processes func(ctx context.Context) (live, stale int64, err error)
	// Audit returns the last verification, nil before the first.
	Audit func(ctx context.Context) (*AuditStatus, error)
	// AnchorDiverged reports whether the audit chain has diverged from the
	// anchor's newest checkpoint (a restore awaiting lethe audit
	// accept-restore, or a rewrite).
	AnchorDiverged func(ctx context.Context) (bool, error)

	pending, live, stale, verified, verifiedAt, diverged *prometheus.Desc
}

// NewWatchCollector returns the collector; set its functions.
func NewWatchCollector() *WatchCollector {
	return &WatchCollector{
		pending: prometheus.NewDesc("lethe_processor_confirmations_pending",
			"Open erasures waiting for a processor to confirm its notice, by processor.", []string{"processor"}, nil),
		live: prometheus.NewDesc("lethe_processes_live",
			"lethe serve processes whose heartbeat is recent (within three beats).", nil, nil),
		stale: prometheus.NewDesc("lethe_processes_stale",
			"lethe serve processes silent for more than three beats that did not stop cleanly (kept a day).", nil, nil),
		verified: prometheus.NewDesc("lethe_audit_verified",
			"1 when the last verification of the audit chain and its signed checkpoints held, 0 when it found the trail broken; absent before the first.", nil, nil),
		verifiedAt: prometheus.NewDesc("lethe_audit_last_verified_timestamp_seconds",
			"When the audit chain was last verified (any outcome); 0 before the first.", nil, nil),
		diverged: prometheus.NewDesc("lethe_audit_anchor_diverged",
			"1 while the audit chain is behind or forked from the newest signed checkpoint of its anchor (a restored state store awaiting lethe audit accept-restore, or a rewritten trail): no checkpoint is written meanwhile; 0 when they agree or there is no anchor.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (w *WatchCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{w.pending, w.live, w.stale, w.verified, w.verifiedAt, w.diverged} {
		ch <- d
	}
}

// Collect implements prometheus.Collector; a failed read is reported as an
// invalid metric, which leaves that read's figures out of the scrape.
func (w *WatchCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if w.Processors != nil {
		if byName, err := w.Processors(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(w.pending, err)
		} else {
			for _, name := range w.ProcessorNames {
				if _, ok := byName[name]; !ok {
					ch <- prometheus.MustNewConstMetric(w.pending, prometheus.GaugeValue, 0, name)
				}
			}
			for name, n := range byName {
				ch <- prometheus.MustNewConstMetric(w.pending, prometheus.GaugeValue, float64(n), name)
			}
		}
	}
	if w.Processes != nil {
		if live, stale, err := w.Processes(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(w.live, err)
		} else {
			ch <- prometheus.MustNewConstMetric(w.live, prometheus.GaugeValue, float64(live))
			ch <- prometheus.MustNewConstMetric(w.stale, prometheus.GaugeValue, float64(stale))
		}
	}
	if w.Audit != nil {
		switch st, err := w.Audit(ctx); {
		case err != nil:
			ch <- prometheus.NewInvalidMetric(w.verified, err)
		case st == nil:
			ch <- prometheus.MustNewConstMetric(w.verifiedAt, prometheus.GaugeValue, 0)
		default:
			ok := 0.0
			if st.OK {
				ok = 1
			}
			ch <- prometheus.MustNewConstMetric(w.verified, prometheus.GaugeValue, ok)
			ch <- prometheus.MustNewConstMetric(w.verifiedAt, prometheus.GaugeValue, float64(st.At.Unix()))
		}
	}
	if w.AnchorDiverged != nil {
		if d, err := w.AnchorDiverged(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(w.diverged, err)
		} else {
			v := 0.0
			if d {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(w.diverged, prometheus.GaugeValue, v)
		}
	}
}
