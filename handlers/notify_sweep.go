package handlers

import (
	"context"
	"time"

	"kaiportal/config"
	"kaiportal/models"
)

// NotifySettings are the sweep's settings as configured (NOTIFY_*).
func NotifySettings(cfg *config.Config) models.NotifySettings {
	t := cfg.NotifyTiming
	return models.NotifySettings{ReminderOffsets: t.ReminderOffsets, AllocationEndingAhead: t.AllocationEndingAhead,
		TelemetryGap: t.TelemetryGap}
}

// SweepNotifications records the reminders, overdue answers, ending
// allocations and telemetry gaps due (models.SweepNotifications), every
// interval until ctx ends. Several portal instances may run it: each
// notice reaches each user once.
func (h *Handler) SweepNotifications(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := h.sweepNotifications(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("notification sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepNotifications is one sweep, at the handler's clock, with the
// configured settings.
func (h *Handler) sweepNotifications(ctx context.Context) error {
	return models.SweepNotifications(ctx, h.db, h.now(), NotifySettings(h.cfg))
}
