package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kaiportal/config"
	"kaiportal/models"
)

// `portal collect` seeds the demo (in development), polls the demo's
// simulated clusters and, when its context ends, writes what it holds,
// gives up its leases and returns.
func TestCollectCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("collector run skipped in -short mode")
	}
	env := devEnv(t)
	env["PORTAL_COLLECT_METRICS_ADDR"] = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"collect"}, envOf(env), io.Discard, io.Discard) }()

	cfg, err := config.Load(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the demo clusters were not polled within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
		conn, err := models.OpenSQLite(cfg.SQLitePath(), time.Now)
		if err != nil {
			continue
		}
		var polled int64
		err = conn.Model(&models.Cluster{}).Where("name LIKE ? AND last_success_at IS NOT NULL", "demo-%").Count(&polled).Error
		models.Close(conn)
		if err == nil && polled == 5 {
			break
		}
	}
	// Its /metrics has the collector's series, as `portal serve`'s has.
	res, err := http.Get("http://" + env["PORTAL_COLLECT_METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`portal_collector_scrapes_total{cluster="demo-`, "portal_collector_samples_total{",
		"portal_collector_endpoint_up{", "process_start_time_seconds"} {
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("collect's /metrics: %d, lacks %s", res.StatusCode, want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("collect returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("collect did not stop after its context ended")
	}
	conn, err := models.OpenSQLite(cfg.SQLitePath(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(conn)
	var leases, gpus int64
	conn.Model(&models.ClusterLease{}).Count(&leases)
	conn.Model(&models.GPU{}).Count(&gpus)
	if leases != 0 || gpus < 5*60 {
		t.Errorf("after collect: %d leases left, %d GPUs known", leases, gpus)
	}
}

// The collector takes its failure policy from the settings; no retries
// means none, not the collector's default.
func TestNewCollectorPolicy(t *testing.T) {
	for _, tc := range []struct {
		retries, want int
	}{{3, 3}, {0, -1}, {7, 7}} {
		cfg := &config.Config{CollectorRetries: tc.retries, CollectorMaxBackoff: 2 * time.Minute, CollectorFailureHistory: 250}
		c := newCollector(cfg, nil, nil, slog.New(slog.DiscardHandler), nil)
		if c.Retries != tc.want || c.MaxBackoff != 2*time.Minute || c.FailureHistory != 250 {
			t.Errorf("retries %d: collector %d retries, max back-off %s, history %d", tc.retries, c.Retries, c.MaxBackoff, c.FailureHistory)
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The collector's /metrics follows the portal's rule: a token when one is
// set, else loopback clients in development and no one in production.
func TestCollectMetricsAccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, mode, token, remote, auth string
		want                            int
	}{
		{"development, loopback", config.ModeDevelopment, "", "127.0.0.1:5000", "", 200},
		{"development, another host", config.ModeDevelopment, "", "10.1.2.3:5000", "", 403},
		{"production, no token set", config.ModeProduction, "", "127.0.0.1:5000", "", 404},
		{"token, none sent", config.ModeProduction, "s3cret", "10.1.2.3:5000", "", 401},
		{"token, wrong one", config.ModeProduction, "s3cret", "10.1.2.3:5000", "Bearer nope", 401},
		{"token, right one", config.ModeProduction, "s3cret", "10.1.2.3:5000", "Bearer s3cret", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, m, err := collectMetrics(&config.Config{Mode: tc.mode, MetricsToken: tc.token})
			if err != nil {
				t.Fatal(err)
			}
			m.Polled("c1", "http://gn001:9400/metrics", time.Second, 8, 0, nil)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.RemoteAddr = tc.remote
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == 200 && !strings.Contains(rec.Body.String(), `portal_collector_samples_total{cluster="c1"} 8`) {
				t.Errorf("no collector series:\n%s", rec.Body.String())
			}
		})
	}
}
