package main

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"kaiportal/config"
	"kaiportal/dcgm"
	"kaiportal/models"
)

// The GPU telemetry collector runs inside `portal serve` and alone as
// `portal collect`, so that web instances and the collector can be scaled
// apart. With several of them on one PostgreSQL database, each cluster is
// polled by the one collector that holds its lease.

// newCollector is the collector on the portal database; secrets opens the
// clusters' bearer tokens.
func newCollector(db *gorm.DB, secrets *models.SecretBox, log *slog.Logger) *dcgm.Collector {
	return &dcgm.Collector{Store: models.TelemetryStore{DB: db, Secrets: secrets}, Log: log.With("component", "collector")}
}

// runCollect runs the collector alone until ctx ends (`portal collect`).
func runCollect(ctx context.Context, cfg *config.Config, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger) error {
	if cfg.DemoData {
		if err := seedDemo(ctx, cfg, db); err != nil {
			return err
		}
	}
	return newCollector(db, secrets, log).Run(ctx)
}

// startCollector runs the collector beside the web portal until ctx ends or
// stop is called; stop blocks until it has written what it holds and stopped.
func startCollector(ctx context.Context, db *gorm.DB, secrets *models.SecretBox, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := newCollector(db, secrets, log).Run(ctx); err != nil {
			log.Error("collector", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
