package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The settings of the notices that no user's action makes: reminders
// before deadlines, allocations ending, telemetry gaps.
type NotifyTiming struct {
	// ReminderOffsets are how long before a deadline (an appeal window, a
	// report's due date, an opinion period, a signature) its reminders go
	// out, largest first (NOTIFY_REMINDER_OFFSETS, e.g. 72h,24h).
	ReminderOffsets []time.Duration
	// AllocationEndingAhead is how long before an allocation ends its team
	// and the officers are told (NOTIFY_ALLOCATION_ENDING_AHEAD).
	AllocationEndingAhead time.Duration
	// TelemetryGap is how long an allocation may go without any of its
	// GPUs being seen before the officers and the team are told
	// (NOTIFY_TELEMETRY_GAP).
	TelemetryGap time.Duration
}

// maxReminderOffset bounds a reminder's offset: a month ahead is no longer a reminder.
const maxReminderOffset = 31 * 24 * time.Hour

// loadNotifyTiming reads the NOTIFY_* timing settings.
func loadNotifyTiming(getenv Getenv) (NotifyTiming, []error) {
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var t NotifyTiming
	offsets, err := parseOffsets(str("NOTIFY_REMINDER_OFFSETS", "72h,24h"))
	if err != nil {
		errs = append(errs, err)
	}
	t.ReminderOffsets = offsets
	for _, s := range []struct {
		name, def string
		to        *time.Duration
	}{
		{"NOTIFY_ALLOCATION_ENDING_AHEAD", "168h", &t.AllocationEndingAhead},
		{"NOTIFY_TELEMETRY_GAP", "6h", &t.TelemetryGap},
	} {
		v := str(s.name, s.def)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as %s, got %q", s.name, s.def, v))
			continue
		}
		*s.to = d
	}
	return t, errs
}

// parseOffsets reads NOTIFY_REMINDER_OFFSETS: durations separated by
// commas, returned largest first.
func parseOffsets(v string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("NOTIFY_REMINDER_OFFSETS: want positive durations separated by commas, such as 72h,24h, got %q", v)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int(b - a) })
	return out, nil
}

// validateNotifyTiming checks the rules that join the timing settings.
func (t NotifyTiming) validate() []error {
	var errs []error
	if len(t.ReminderOffsets) == 0 {
		errs = append(errs, fmt.Errorf("NOTIFY_REMINDER_OFFSETS: want at least one offset, such as 72h,24h"))
	}
	for i, o := range t.ReminderOffsets {
		if o > maxReminderOffset {
			errs = append(errs, fmt.Errorf("NOTIFY_REMINDER_OFFSETS: %s is longer than %s", o, maxReminderOffset))
		}
		if i > 0 && o == t.ReminderOffsets[i-1] {
			errs = append(errs, fmt.Errorf("NOTIFY_REMINDER_OFFSETS: %s is given twice", o))
		}
	}
	if t.AllocationEndingAhead > maxReminderOffset {
		errs = append(errs, fmt.Errorf("NOTIFY_ALLOCATION_ENDING_AHEAD: want at most %s, got %s", maxReminderOffset, t.AllocationEndingAhead))
	}
	if t.TelemetryGap < 10*time.Minute {
		errs = append(errs, fmt.Errorf("NOTIFY_TELEMETRY_GAP: want at least 10m (the collector sees each GPU every 5 minutes), got %s", t.TelemetryGap))
	}
	return errs
}
