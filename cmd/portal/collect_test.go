package main

import (
	"context"
	"io"
	"log/slog"
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
