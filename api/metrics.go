package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lethe-privacy/lethe/dsr"
)

// knownMethods are the methods a latency label names; any other token a
// client sends counts as "other", so no client can add series.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// instrument observes every HTTP request's latency by method, route
// template (never the raw path, which may carry ids) and status. Every
// label is bounded: a method outside knownMethods is "other", a route
// that is not registered is "unmatched", and a status outside 100–599 is
// "other", so unauthenticated requests cannot grow /metrics.
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
			hist.WithLabelValues(s.labels(c)).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// labels returns the bounded method, route and status labels of c.
func (s *Server) labels(c echo.Context) (method, route, status string) {
	method, route, status = c.Request().Method, c.Path(), "other"
	if !knownMethods[method] {
		method = "other"
	}
	if !s.routes[route] {
		route = "unmatched"
	}
	if code := c.Response().Status; code >= 100 && code <= 599 {
		status = strconv.Itoa(code)
	}
	return method, route, status
}

func (s *Server) metrics() echo.HandlerFunc {
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
	}
	// A collector whose read fails leaves its own figures out (their
	// absence is what the alerts of deploy/prometheus/alerts.yaml watch),
	// not the whole scrape: the other figures stay served, the error logged.
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	if s.Logger != nil {
		opts.ErrorLog = slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)
	}
	return echo.WrapHandler(promhttp.HandlerFor(s.Metrics, opts))
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
// invalid metric, which leaves its figures out of the scrape (see metrics).
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
