package models

import (
	"fmt"
	"testing"
	"time"
)

// TestSeenDue: an unchanged GPU's record is written in its own minute of
// every five, never twice in a minute, and at the latest SeenEvery after the
// last write whatever the minute.
func TestSeenDue(t *testing.T) {
	const uuid = "GPU-seen-due"
	base := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	slot := base
	for !SeenSlot(uuid, slot) {
		slot = slot.Add(time.Minute)
	}
	off := slot.Add(time.Minute) // the next minute is another slot
	for _, c := range []struct {
		name     string
		last, at time.Time
		want     bool
	}{
		{"in its slot, written 4 min ago", slot.Add(-4 * time.Minute), slot.Add(10 * time.Second), true},
		{"in its slot, written 30 s ago", slot.Add(-30 * time.Second), slot.Add(10 * time.Second), false},
		{"outside its slot, written 4 min ago", off.Add(-4 * time.Minute), off, false},
		{"outside its slot, written SeenEvery ago", off.Add(-SeenEvery), off, true},
		{"outside its slot, written just under SeenEvery ago", off.Add(-SeenEvery + time.Second), off, false},
		{"clock behind the last write", off.Add(time.Minute), off, true},
	} {
		if got := seenDue(uuid, c.last, c.at); got != c.want {
			t.Errorf("%s: seenDue = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSeenSpread: of 10,000 unchanged GPUs written every minute, each
// minute's write carries about a fifth of them, and no record is ever older
// than SeenEvery.
func TestSeenSpread(t *testing.T) {
	const n = 10_000
	o := &GPUOwners{}
	gpus := make([]SeenGPU, n)
	start := time.Date(2026, 12, 7, 3, 0, 30, 0, time.UTC)
	for i := range gpus {
		gpus[i] = SeenGPU{UUID: fmt.Sprintf("GPU-%08x", i*7919), Node: "n", Model: "m"}
		o.remember(1, gpus[i].UUID, start)
	}
	o.recorded(gpus, start) // all at once, as after a first registration
	last := map[string]time.Time{}
	for _, g := range gpus {
		last[g.UUID] = start
	}
	for m := 1; m <= 12; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		for _, g := range gpus {
			o.remember(1, g.UUID, at)
		}
		due := o.unchanged(1, gpus, at)
		if len(due) > n*3/10 {
			t.Errorf("minute %d: %d of %d records written, want about a fifth", m, len(due), n)
		}
		o.recorded(due, at)
		for _, g := range due {
			last[g.UUID] = at
		}
		for u, l := range last {
			if at.Sub(l) > SeenEvery {
				t.Fatalf("minute %d: %s last written %v ago", m, u, at.Sub(l))
			}
		}
	}
}
