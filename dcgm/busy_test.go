package dcgm

import (
	"testing"
	"time"
)

// TestBusyThresholdClassifiesObservedTime: observed time is busy at or above
// the threshold and idle below it; a gap beyond MaxGap is unobserved; each
// rollup records the threshold it was folded at.
func TestBusyThresholdClassifiesObservedTime(t *testing.T) {
	// One GPU polled every minute: 0 % (starts it), 3 %, 5 %, 50 %, 0 %,
	// then a 10-minute gap (only MaxGap = 2 min of it covered) and 20 %.
	utils := []struct {
		at   int // seconds after 10:00
		util float64
	}{{0, 0}, {60, 3}, {120, 5}, {180, 50}, {240, 0}, {900, 20}}
	for _, tc := range []struct {
		name      string
		threshold float64
		wantTh    float64
		busy      float64
	}{
		{"default threshold", 0, DefaultBusyThresholdPct, 60 + 60 + 120},
		{"any activity", -1, 0, 60 + 60 + 60 + 120},
		{"at 5 % counts", 5, 5, 60 + 60 + 120},
		{"30 %", 30, 30, 60},
		{"above everything", 60, 60, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder(FolderConfig{Interval: time.Minute, BusyThresholdPct: tc.threshold})
			for _, u := range utils {
				f.Add(smp("GPU-a", at(10, 0, 0, 0).Add(time.Duration(u.at)*time.Second), u.util, -1))
			}
			rs := f.Snapshot()
			if len(rs) != 1 {
				t.Fatalf("%d rollups, want 1", len(rs))
			}
			r := rs[0]
			const clock, observed = 900.0, 240.0 + 120
			if r.ObservedSeconds != observed {
				t.Errorf("observed %v, want %v", r.ObservedSeconds, observed)
			}
			if r.ActiveSeconds != tc.busy {
				t.Errorf("busy %v, want %v", r.ActiveSeconds, tc.busy)
			}
			if idle := r.ObservedSeconds - r.ActiveSeconds; idle != observed-tc.busy {
				t.Errorf("idle %v, want %v", idle, observed-tc.busy)
			}
			if unobserved := clock - r.ObservedSeconds; unobserved != 540 {
				t.Errorf("unobserved %v, want 540", unobserved)
			}
			if r.BusyThresholdPct != tc.wantTh {
				t.Errorf("threshold recorded %v, want %v", r.BusyThresholdPct, tc.wantTh)
			}
		})
	}
}
