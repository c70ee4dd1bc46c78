package handlers

import (
	"context"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/static"
)

// healthz answers while the process runs.
func (h *Handler) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.String(http.StatusOK, "ok\n")
}

// readyz answers 200 when a filing would succeed: the database takes a
// write (rolled back) within three seconds and has the expected schema, and
// the data directory and file store take files and have
// PORTAL_MIN_FREE_BYTES free. Otherwise it answers 503 with one line per
// failed check.
func (h *Handler) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	problems := models.Ready(ctx, h.db, models.ReadyOptions{
		Dirs:    []string{h.cfg.DataDir, h.files.Dir()},
		MinFree: uint64(h.cfg.MinFreeBytes),
	}, h.now())
	if len(problems) > 0 {
		var b strings.Builder
		b.WriteString("not ready\n")
		for _, p := range problems {
			h.log.Warn("not ready", "check", p.Check, "problem", p.Detail)
			b.WriteString(p.String() + "\n")
		}
		c.String(http.StatusServiceUnavailable, b.String())
		return
	}
	c.String(http.StatusOK, "ready\n")
}

// sweepOrphans removes stored files that no row points to and temporary
// files, once older than PORTAL_ORPHAN_AGE, and counts them.
func (h *Handler) sweepOrphans(ctx context.Context) {
	sw, err := h.files.SweepOrphans(ctx, h.db, h.now().Add(-h.cfg.OrphanAge))
	h.metrics.orphans.WithLabelValues("content").Add(float64(sw.Contents))
	h.metrics.orphans.WithLabelValues("temporary").Add(float64(sw.Temporaries))
	if err != nil && ctx.Err() == nil {
		h.log.Error("orphan file sweep", "err", err)
	}
	if sw.Contents > 0 || sw.Temporaries > 0 {
		h.log.Info("orphan files removed", "contents", sw.Contents, "temporaries", sw.Temporaries,
			"bytes", sw.Bytes, "older_than", h.cfg.OrphanAge.String())
	}
}

// CollectorMetrics is the observer that puts the telemetry collector's
// series (polls, errors, durations, samples, write lag) on this handler's /metrics.
func (h *Handler) CollectorMetrics() *dcgm.Metrics { return h.metrics.collector }

// metricsHandler serves Prometheus metrics: with PORTAL_METRICS_TOKEN set,
// to requests bearing it. Without a token, in development only to clients
// on this machine; in production to no one (404), since behind a proxy on
// the same host every request comes from this machine.
func (h *Handler) metricsHandler(c *gin.Context) {
	if tok := h.cfg.MetricsToken; tok != "" {
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || !constantEqual(got, tok) {
			c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
			c.String(http.StatusUnauthorized, "metrics: bearer token required\n")
			return
		}
	} else if h.cfg.Production() {
		h.renderError(c, http.StatusNotFound, nil)
		return
	} else if ip := net.ParseIP(c.RemoteIP()); ip == nil || !ip.IsLoopback() {
		c.String(http.StatusForbidden, "metrics: set PORTAL_METRICS_TOKEN to scrape from another host\n")
		return
	}
	h.metrics.handler.ServeHTTP(c.Writer, c.Request)
}

// serveStatic serves the embedded assets. Under the current checksum they
// are immutable for a year; under an old one they are served uncached.
// Text assets go gzip-compressed to clients that take it, compressed once
// per process (loadAsset); fonts and images go as they are.
func (h *Handler) serveStatic(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean(c.Param("path")), "/")
	if name == "" || name == "." || strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, ".md") {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	a, err := loadAsset(name)
	if err != nil {
		h.renderError(c, http.StatusNotFound, nil)
		return
	}
	if c.Param("hash") == static.Hash {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	writeBody(c, http.StatusOK, a.contentType, a.body, a.gz, a.compressible)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}

// metrics are the portal's own Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	orphans  *prometheus.CounterVec
	// collector keeps the series of the telemetry collector that runs in
	// this process (portal serve with PORTAL_COLLECTOR): Handler.CollectorMetrics.
	collector *dcgm.Metrics
	// pages counts the page cache's answers: hit (served as kept), fill
	// (made and kept), miss (made, not kept: not a 200, or it changes too soon).
	pages                       *prometheus.CounterVec
	pageHit, pageFill, pageMiss prometheus.Counter
	handler                     http.Handler
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_orphan_files_removed_total",
			Help: "Files removed from the file store by the orphan sweep: content no row pointed to, or temporary files.",
		}, []string{"kind"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_page_cache_requests_total",
			Help: "Requests for cached pages: hit (served as kept), fill (made and kept), miss (made, not kept).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.orphans, m.pages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	var err error
	if m.collector, err = dcgm.NewMetrics(reg); err != nil {
		return nil, err
	}
	m.pageHit, m.pageFill, m.pageMiss = m.pages.WithLabelValues("hit"), m.pages.WithLabelValues("fill"), m.pages.WithLabelValues("miss")
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	client := c.Request.Context()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := loggedStatus(client, c.Writer.Status())
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}
