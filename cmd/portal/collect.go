package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/dcgm"
	"kaiportal/models"
)

// The GPU telemetry collector runs inside `portal serve` and alone as
// `portal collect`, so that web instances and the collector can be scaled
// apart. With several of them on one PostgreSQL database, each cluster is
// polled by the one collector that holds its lease.

// newCollector is the collector on the portal database with the failure
// policy of cfg; secrets opens the clusters' bearer tokens, and obs (nil:
// none) receives its metrics.
func newCollector(cfg *config.Config, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger, obs dcgm.Observer) *dcgm.Collector {
	retries := cfg.CollectorRetries
	if retries == 0 {
		retries = -1 // the collector's zero value means its default
	}
	return &dcgm.Collector{Store: models.TelemetryStore{DB: db, Secrets: secrets, Owners: &models.GPUOwners{}}, Log: log.With("component", "collector"),
		Observer: obs, Retries: retries, MaxBackoff: cfg.CollectorMaxBackoff, FailureHistory: cfg.CollectorFailureHistory}
}

// runCollect runs the collector alone until ctx ends (`portal collect`).
func runCollect(ctx context.Context, cfg *config.Config, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger) error {
	if cfg.DemoData {
		if err := seedDemo(ctx, cfg, db); err != nil {
			return err
		}
	}
	var obs dcgm.Observer
	if cfg.CollectMetricsAddr != "" {
		h, m, err := collectMetrics(cfg)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.CollectMetricsAddr)
		if err != nil {
			return fmt.Errorf("collector metrics: listen on %s: %w", cfg.CollectMetricsAddr, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("collector metrics", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("collector metrics listening", "addr", ln.Addr().String()+"/metrics")
		obs = m
	}
	// Alone, the collector shares SQLite with another process's writers,
	// which wait in SQLite's busy handler rather than at this process's
	// gate: leave them gaps between the chunks of a large write.
	models.SQLiteChunkPause = models.CollectAlonePause
	go compactLoop(ctx, cfg, db, log)
	return newCollector(cfg, db, secrets, log, obs).Run(ctx)
}

// startCollector runs the collector beside the web portal until ctx ends or
// stop is called; stop blocks until it has written what it holds and
// stopped. Its metrics go to obs (the portal's /metrics).
func startCollector(ctx context.Context, cfg *config.Config, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger,
	obs dcgm.Observer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go compactLoop(ctx, cfg, db, log)
	go func() {
		defer close(done)
		if err := newCollector(cfg, db, secrets, log, obs).Run(ctx); err != nil {
			log.Error("collector", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// compactLoop compacts old hourly rollups (models.CompactRollups) now and
// every models.CompactEvery while the collector runs, when
// PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS is set.
func compactLoop(ctx context.Context, cfg *config.Config, db *gorm.DB, log *slog.Logger) {
	if cfg.HourlyRetentionMonths < 1 {
		return
	}
	tick := time.NewTicker(models.CompactEvery)
	defer tick.Stop()
	for {
		c, err := models.CompactRollups(ctx, db, cfg.HourlyRetentionMonths, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("collector: compact hourly rollups", "err", err)
		case err == nil && c.Days > 0:
			log.Info("collector: hourly rollups compacted", "before", c.Before.String(), "days", c.Days, "rows", c.Deleted)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// compactTelemetry is `portal compact-telemetry [--months N]`.
func compactTelemetry(ctx context.Context, cfg *config.Config, db *gorm.DB, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compact-telemetry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	months := fs.Int("months", cfg.HourlyRetentionMonths, "keep this many months of hourly rollups (and the current one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errQuiet
	}
	if *months < 1 {
		return errors.New("compact-telemetry: want --months 1 or more (or PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS)")
	}
	c, err := models.CompactRollups(ctx, db, *months, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hourly rollups before %s compacted: %d days, %d rows removed, %d kept (GPUs in an allocation part-way)\n",
		c.Before, c.Days, c.Deleted, c.Kept)
	return nil
}
