package dcgm

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is an Observer that keeps the collector's Prometheus series:
//
//	portal_collector_scrapes_total{cluster,endpoint}                polls of an endpoint
//	portal_collector_scrape_errors_total{cluster,endpoint}          failed polls
//	portal_collector_scrape_duration_seconds{cluster,endpoint}      histogram of poll durations
//	portal_collector_samples_total{cluster}                         GPU samples received
//	portal_collector_skipped_values_total{cluster}                  malformed, blank or NaN values skipped
//	portal_collector_endpoint_up{cluster,endpoint}                  1 when the last poll succeeded
//	portal_collector_endpoint_consecutive_failures{cluster,endpoint}
//	portal_collector_writes_total{cluster}, portal_collector_write_errors_total{cluster}
//	portal_collector_write_duration_seconds{cluster}                histogram of rollup writes
//	portal_collector_write_lag_seconds{cluster}                     age of the oldest sample at its write
//	portal_collector_rows_written_total{cluster}
//
// Only the clusters this process collects (holds the lease of) have series.
type Metrics struct {
	scrapes, scrapeErrors *prometheus.CounterVec
	scrapeDuration        *prometheus.HistogramVec
	samples, skipped      *prometheus.CounterVec
	up, fails             *prometheus.GaugeVec
	writes, writeErrors   *prometheus.CounterVec
	rows                  *prometheus.CounterVec
	writeDuration         *prometheus.HistogramVec
	writeLag              *prometheus.GaugeVec
}

var _ Observer = (*Metrics)(nil)

// NewMetrics makes the collector's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	ce := []string{"cluster", "endpoint"}
	c := []string{"cluster"}
	m := &Metrics{
		scrapes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_scrapes_total",
			Help: "Polls of a cluster's telemetry endpoint, failed or not."}, ce),
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_scrape_errors_total",
			Help: "Failed polls of a cluster's telemetry endpoint (no samples: refused, timed out, unreadable)."}, ce),
		scrapeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "portal_collector_scrape_duration_seconds",
			Help:    "How long a poll of a telemetry endpoint took, up to its timeout.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, ce),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_samples_total",
			Help: "GPU samples received (one per device per poll)."}, c),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_skipped_values_total",
			Help: "Malformed, blank or NaN values skipped in polls."}, c),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portal_collector_endpoint_up",
			Help: "1 when the endpoint's last poll succeeded, 0 when it failed."}, ce),
		fails: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portal_collector_endpoint_consecutive_failures",
			Help: "Failed polls of the endpoint in a row."}, ce),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_writes_total",
			Help: "Writes of a cluster's hourly rollups to the database."}, c),
		writeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_write_errors_total",
			Help: "Failed writes of a cluster's rollups (retried with the next write)."}, c),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portal_collector_rows_written_total",
			Help: "Rollup rows written (each device-hour is rewritten with its totals at every write)."}, c),
		writeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "portal_collector_write_duration_seconds",
			Help:    "How long a write of a cluster's rollups took.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, c),
		writeLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portal_collector_write_lag_seconds",
			Help: "At the last successful write of a cluster's rollups, how long its oldest new sample had waited since it was taken."}, c),
	}
	for _, col := range []prometheus.Collector{m.scrapes, m.scrapeErrors, m.scrapeDuration, m.samples, m.skipped,
		m.up, m.fails, m.writes, m.writeErrors, m.rows, m.writeDuration, m.writeLag} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Polled implements Observer.
func (m *Metrics) Polled(cluster, endpoint string, took time.Duration, samples, skipped int, err error) {
	m.scrapes.WithLabelValues(cluster, endpoint).Inc()
	m.scrapeDuration.WithLabelValues(cluster, endpoint).Observe(took.Seconds())
	if err != nil {
		m.scrapeErrors.WithLabelValues(cluster, endpoint).Inc()
	} else {
		m.scrapeErrors.WithLabelValues(cluster, endpoint) // present at 0
	}
	m.samples.WithLabelValues(cluster).Add(float64(samples))
	m.skipped.WithLabelValues(cluster).Add(float64(skipped))
}

// Endpoint implements Observer.
func (m *Metrics) Endpoint(cluster string, s EndpointStatus) {
	up := 0.0
	if s.State == EndpointOK {
		up = 1
	}
	m.up.WithLabelValues(cluster, s.Endpoint).Set(up)
	m.fails.WithLabelValues(cluster, s.Endpoint).Set(float64(s.Fails))
}

// Wrote implements Observer.
func (m *Metrics) Wrote(cluster string, rows int, took, lag time.Duration, err error) {
	m.writes.WithLabelValues(cluster).Inc()
	m.writeDuration.WithLabelValues(cluster).Observe(took.Seconds())
	if err != nil {
		m.writeErrors.WithLabelValues(cluster).Inc()
		return
	}
	m.writeErrors.WithLabelValues(cluster)
	m.rows.WithLabelValues(cluster).Add(float64(rows))
	m.writeLag.WithLabelValues(cluster).Set(lag.Seconds())
}

// Forget implements Observer.
func (m *Metrics) Forget(cluster string) {
	l := prometheus.Labels{"cluster": cluster}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{m.scrapes, m.scrapeErrors,
		m.scrapeDuration, m.samples, m.skipped, m.up, m.fails, m.writes, m.writeErrors, m.rows, m.writeDuration, m.writeLag} {
		v.DeletePartialMatch(l)
	}
}
