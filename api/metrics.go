package api

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lethe-privacy/lethe/dsr"
)

// instrument observes every HTTP request's latency by method, route
// template (never the raw path, which may carry ids) and status.
func (s *Server) instrument() echo.MiddlewareFunc {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lethe_http_request_duration_seconds",
		Help:    "HTTP request latency by method, route and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	if s.Metrics != nil {
		s.Metrics.MustRegister(hist)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			hist.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

func (s *Server) metrics() echo.HandlerFunc {
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
	}
	return echo.WrapHandler(promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{}))
}

// RequestCollector exports request figures read from the state store at
// scrape time, so every replica reports the same, shared truth.
type RequestCollector struct {
	Stats dsr.RequestStats
	byTS  *prometheus.Desc
	over  *prometheus.Desc
}

// NewRequestCollector returns a collector over stats.
func NewRequestCollector(stats dsr.RequestStats) *RequestCollector {
	return &RequestCollector{
		Stats: stats,
		byTS:  prometheus.NewDesc("lethe_requests", "Data-subject requests by type and status.", []string{"type", "status"}, nil),
		over:  prometheus.NewDesc("lethe_requests_overdue", "Open requests past their deadline.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (rc *RequestCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rc.byTS; ch <- rc.over }

// Collect implements prometheus.Collector; a failed read is reported as an
// invalid metric, which makes the scrape fail visibly.
func (rc *RequestCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := rc.Stats.RequestCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rc.byTS, err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(rc.byTS, prometheus.GaugeValue, float64(c.N), string(c.Type), string(c.Status))
	}
	n, err := rc.Stats.Overdue(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rc.over, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(rc.over, prometheus.GaugeValue, float64(n))
}
