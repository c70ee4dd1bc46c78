package main

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kaiportal/config"
	"kaiportal/dcgm"
)

// collectMetrics is the /metrics of `portal collect`: the collector's
// series and the process's, as `portal serve` has them, under the same
// access rule (see handlers' metricsHandler): with PORTAL_METRICS_TOKEN,
// requests bearing it; without, clients on this machine in development and
// no one in production.
func collectMetrics(cfg *config.Config) (http.Handler, *dcgm.Metrics, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, nil, err
		}
	}
	m, err := dcgm.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	serve := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if tok := cfg.MetricsToken; tok != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "metrics: bearer token required", http.StatusUnauthorized)
				return
			}
		} else if cfg.Production() {
			http.NotFound(w, r)
			return
		} else if host, _, _ := net.SplitHostPort(r.RemoteAddr); !isLoopback(host) {
			http.Error(w, "metrics: set PORTAL_METRICS_TOKEN to scrape from another host", http.StatusForbidden)
			return
		}
		serve.ServeHTTP(w, r)
	})
	return mux, m, nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
