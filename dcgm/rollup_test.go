package dcgm

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// at returns 2026-11-27 at hh:mm:ss (plus ms milliseconds) UTC.
func at(hh, mm, ss, ms int) time.Time {
	return time.Date(2026, 11, 27, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
}

// smp builds a whole-GPU sample; util < 0 leaves utilisation out, energy < 0
// leaves the counter out.
func smp(uuid string, t time.Time, util, energyMJ float64) Sample {
	s := Sample{UUID: uuid, Node: "gn001", Model: "NVIDIA H100 80GB HBM3", Time: t}
	if util >= 0 {
		s.Util = fp(util)
	}
	if energyMJ >= 0 {
		s.EnergyMJ = fp(energyMJ)
	}
	return s
}

// roll is what a test expects of one rollup.
type roll struct {
	key                      string
	hour                     int // hour of the day
	observed, active         float64
	utilSum, gr, sm, energyJ float64
	maxFB                    float64
	xids, samples            int
}

func (r roll) String() string {
	// Round away float noise below a microsecond / microjoule.
	q := func(v float64) float64 { return math.Round(v*1e6) / 1e6 }
	return fmt.Sprintf("%s@%02d obs=%g act=%g util=%g gr=%g sm=%g energy=%g fb=%g xid=%d n=%d",
		r.key, r.hour, q(r.observed), q(r.active), q(r.utilSum), q(r.gr), q(r.sm), q(r.energyJ), r.maxFB, r.xids, r.samples)
}

func rollOf(r Rollup) roll {
	return roll{r.Key, r.Hour.Hour(), r.ObservedSeconds, r.ActiveSeconds, r.UtilSum, r.GRActiveSum, r.SMActiveSum, r.EnergyJ, r.MaxFBMiB, r.XIDCount, r.Samples}
}

func checkRollups(t *testing.T, got []Rollup, want []roll) {
	t.Helper()
	var g, w []string
	for _, r := range got {
		g = append(g, rollOf(r).String())
		if r.Hour.Location() != time.UTC || r.Hour.Minute() != 0 || r.Hour.Second() != 0 || r.Hour.Nanosecond() != 0 {
			t.Errorf("hour %v is not a UTC hour", r.Hour)
		}
	}
	for _, r := range want {
		w = append(w, r.String())
	}
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("rollups:\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(w, "\n     "))
	}
}

func TestFolder(t *testing.T) {
	const a, b = "GPU-a", "GPU-b"
	mig := func(inst string, tm time.Time, gr float64) Sample {
		s := Sample{UUID: a, MIG: inst, Profile: "3g.40gb", Time: tm, GRActive: fp(gr), FBUsed: fp(1000)}
		return s
	}
	for _, tc := range []struct {
		name    string
		samples []Sample
		ignored int
		want    []roll
	}{{
		name: "steady minutes: the first sample only starts the device",
		samples: []Sample{
			smp(a, at(10, 0, 0, 0), 50, 1_000_000),
			smp(a, at(10, 1, 0, 0), 50, 1_030_000),
			smp(a, at(10, 2, 0, 0), 0, 1_036_000),
		},
		want: []roll{{key: a, hour: 10, observed: 120, active: 60, utilSum: 3000, energyJ: 36, samples: 3}},
	}, {
		name: "an interval across an hour boundary is split, energy in proportion",
		samples: []Sample{
			smp(a, at(10, 59, 30, 0), 80, 0),
			smp(a, at(11, 0, 30, 0), 80, 60_000),
		},
		want: []roll{
			{key: a, hour: 10, observed: 30, active: 30, utilSum: 2400, energyJ: 30, samples: 1},
			{key: a, hour: 11, observed: 30, active: 30, utilSum: 2400, energyJ: 30, samples: 1},
		},
	}, {
		name: "a gap across an hour boundary is unobserved; only MaxGap before the sample counts",
		samples: []Sample{
			smp(a, at(10, 58, 0, 0), 100, 0),
			smp(a, at(10, 59, 0, 0), 100, 60_000),
			smp(a, at(11, 7, 0, 0), 100, 540_000), // 8 min later: 480 J, of which 2 min are covered
		},
		want: []roll{
			{key: a, hour: 10, observed: 60, active: 60, utilSum: 6000, energyJ: 60, samples: 2},
			{key: a, hour: 11, observed: 120, active: 120, utilSum: 12000, energyJ: 120, samples: 1},
		},
	}, {
		name: "a sample on the hour covers the hour before it and counts in its own",
		samples: []Sample{
			smp(a, at(10, 59, 0, 0), 10, -1),
			smp(a, at(11, 0, 0, 0), 10, -1),
		},
		want: []roll{
			{key: a, hour: 10, observed: 60, active: 60, utilSum: 600, samples: 1},
			{key: a, hour: 11, samples: 1},
		},
	}, {
		name: "counter reset: only the energy since the reset",
		samples: []Sample{
			smp(a, at(10, 0, 0, 0), 90, 5_000_000),
			smp(a, at(10, 1, 0, 0), 90, 5_060_000), // +60 J
			smp(a, at(10, 2, 0, 0), 90, 5_000),     // rebooted: 5 J since
			smp(a, at(10, 3, 0, 0), 90, 65_000),    // +60 J
		},
		want: []roll{{key: a, hour: 10, observed: 180, active: 180, utilSum: 16200, energyJ: 125, samples: 4}},
	}, {
		name: "no delta across a sample without the counter",
		samples: []Sample{
			smp(a, at(10, 0, 0, 0), 90, 1_000_000),
			smp(a, at(10, 1, 0, 0), 90, -1),
			smp(a, at(10, 2, 0, 0), 90, 1_120_000), // baseline again
			smp(a, at(10, 3, 0, 0), 90, 1_180_000), // +60 J
		},
		want: []roll{{key: a, hour: 10, observed: 180, active: 180, utilSum: 16200, energyJ: 60, samples: 4}},
	}, {
		name: "MIG instances are a breakdown of their GPU; GR activity stands in for util",
		samples: []Sample{
			mig("1", at(10, 0, 0, 0), 0.5), mig("5", at(10, 0, 0, 0), 0),
			{UUID: a, Time: at(10, 0, 0, 0), Power: fp(300), EnergyMJ: fp(0)},
			mig("1", at(10, 1, 0, 0), 0.5), mig("5", at(10, 1, 0, 0), 0),
			{UUID: a, Time: at(10, 1, 0, 0), Power: fp(300), EnergyMJ: fp(18_000_000)},
		},
		// The GPU: one minute observed, busy (instance 1 was), at 0.5 ×
		// 3/7 of the GPU; instances are a breakdown, not added to it.
		want: []roll{
			{key: a, hour: 10, observed: 60, active: 60, utilSum: 60 * 50 * 3 / 7.0, gr: 60 * 0.5 * 3 / 7, energyJ: 18000, maxFB: 2000, samples: 2},
			{key: a + "/1", hour: 10, observed: 60, active: 60, utilSum: 3000, gr: 30, maxFB: 1000, samples: 2},
			{key: a + "/5", hour: 10, observed: 60, gr: 0, maxFB: 1000, samples: 2},
		},
	}, {
		name: "util missing: GR decides; neither: observed, not active",
		samples: []Sample{
			smp(a, at(10, 0, 0, 0), -1, -1),
			{UUID: a, Time: at(10, 1, 0, 0), GRActive: fp(0.25), SMActive: fp(0.2)},
			smp(a, at(10, 2, 0, 0), -1, -1),
		},
		want: []roll{{key: a, hour: 10, observed: 120, active: 60, utilSum: 1500, gr: 15, sm: 12, samples: 3}},
	}, {
		name: "samples out of order or repeated are ignored",
		samples: []Sample{
			smp(a, at(10, 0, 0, 0), 50, -1),
			smp(a, at(10, 1, 0, 0), 50, -1),
			smp(a, at(10, 0, 30, 0), 100, -1), // older than the last one seen
			smp(a, at(10, 1, 0, 0), 100, -1),  // the same instant again
			smp(a, at(10, 2, 0, 0), 50, -1),
		},
		ignored: 2,
		want:    []roll{{key: a, hour: 10, observed: 120, active: 120, utilSum: 6000, samples: 3}},
	}, {
		name: "exact seconds with sub-second instants",
		samples: []Sample{
			smp(a, at(10, 0, 0, 250), 40, 0),
			smp(a, at(10, 0, 1, 750), 40, 3_000), // 1.5 s, 3 J
			smp(a, at(10, 0, 2, 0), 40, 3_500),   // 0.25 s, 0.5 J
		},
		want: []roll{{key: a, hour: 10, observed: 1.75, active: 1.75, utilSum: 70, energyJ: 3.5, samples: 3}},
	}, {
		name: "framebuffer maximum, XID events, two devices",
		samples: []Sample{
			{UUID: a, Time: at(10, 0, 0, 0), FBUsed: fp(100), XIDs: fp(0)},
			{UUID: b, Time: at(10, 0, 0, 0), FBUsed: fp(5)},
			{UUID: a, Time: at(10, 1, 0, 0), FBUsed: fp(70000), XIDs: fp(79)},
			{UUID: a, Time: at(10, 2, 0, 0), FBUsed: fp(300), XIDs: fp(79)},
		},
		want: []roll{
			{key: a, hour: 10, observed: 120, maxFB: 70000, xids: 1, samples: 3}, // 0 → 79 is one event, 79 staying is none
			{key: b, hour: 10, maxFB: 5, samples: 1},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder(FolderConfig{Interval: time.Minute})
			for _, s := range tc.samples {
				f.Add(s)
			}
			if f.Ignored() != tc.ignored {
				t.Errorf("ignored %d, want %d", f.Ignored(), tc.ignored)
			}
			checkRollups(t, f.Snapshot(), tc.want)
			// Flushing everything gives the same rollups and leaves none open.
			checkRollups(t, f.Flush(at(23, 0, 0, 0)), tc.want)
			if open := f.Snapshot(); len(open) != 0 {
				t.Errorf("%d rollups open after a full flush", len(open))
			}
		})
	}
}

func TestFolderFlush(t *testing.T) {
	f := NewFolder(FolderConfig{Interval: time.Minute})
	for m := 55; m < 60; m++ {
		f.Add(smp("GPU-a", at(10, m, 30, 0), 100, float64(m)*60_000))
	}
	f.Add(smp("GPU-a", at(11, 0, 30, 0), 100, 60*60_000))

	// Snapshot does not forget.
	if n := len(f.Snapshot()); n != 2 {
		t.Fatalf("snapshot: %d rollups, want 2", n)
	}
	if n := len(f.Snapshot()); n != 2 {
		t.Fatalf("second snapshot: %d rollups, want 2", n)
	}
	// Nothing complete yet at 10:59:59.
	if got := f.Flush(at(10, 59, 59, 0)); len(got) != 0 {
		t.Fatalf("flush before the hour ended: %v", got)
	}
	got := f.Flush(at(11, 1, 0, 0))
	checkRollups(t, got, []roll{{key: "GPU-a", hour: 10, observed: 270, active: 270, utilSum: 27000, energyJ: 270, samples: 5}})

	// After the flush the 10:00 hour is final: a late sample for it is
	// ignored, and a sample whose interval reaches back into it counts only
	// from 11:00.
	if f.Add(smp("GPU-b", at(10, 59, 0, 0), 100, -1)) {
		t.Error("a sample in a flushed hour was accepted")
	}
	f.Add(smp("GPU-c", at(10, 59, 50, 0), 100, 0)) // ignored: flushed hour
	f.Add(smp("GPU-c", at(11, 0, 20, 0), 100, 30_000))
	f.Add(smp("GPU-c", at(11, 1, 0, 0), 100, 70_000))
	f.Add(smp("GPU-a", at(11, 1, 30, 0), 100, 61*60_000))
	checkRollups(t, f.Snapshot(), []roll{
		{key: "GPU-a", hour: 11, observed: 90, active: 90, utilSum: 9000, energyJ: 90, samples: 2},
		{key: "GPU-c", hour: 11, observed: 40, active: 40, utilSum: 4000, energyJ: 40, samples: 2},
	})
	if f.Ignored() != 2 {
		t.Errorf("ignored %d, want 2", f.Ignored())
	}
	if got := f.Flush(at(11, 30, 0, 0)); len(got) != 0 {
		t.Errorf("flush of a running hour returned %d rollups", len(got))
	}
}

func TestFolderSampleCrossingFlushedBoundary(t *testing.T) {
	// Previous sample at 10:59:30, flush at 11:00:10, next at 11:00:30: the
	// 30 s before 11:00 belong to a flushed hour and are not re-opened.
	f := NewFolder(FolderConfig{Interval: time.Minute})
	f.Add(smp("GPU-a", at(10, 59, 30, 0), 100, 0))
	checkRollups(t, f.Flush(at(11, 0, 10, 0)), []roll{{key: "GPU-a", hour: 10, samples: 1}})
	f.Add(smp("GPU-a", at(11, 0, 30, 0), 100, 60_000))
	checkRollups(t, f.Snapshot(), []roll{{key: "GPU-a", hour: 11, observed: 30, active: 30, utilSum: 3000, energyJ: 30, samples: 1}})
}

func TestFolderRestore(t *testing.T) {
	f := NewFolder(FolderConfig{Interval: time.Minute})
	stored := Rollup{Key: "GPU-a", UUID: "GPU-a", Hour: at(10, 0, 0, 0), Node: "gn001", Model: "m",
		ObservedSeconds: 600, ActiveSeconds: 300, UtilSum: 20000, EnergyJ: 5000, MaxFBMiB: 9000, XIDCount: 1, Samples: 10}
	if !f.Restore(stored) {
		t.Fatal("restore refused")
	}
	f.Add(smp("GPU-a", at(10, 30, 0, 0), 100, 0)) // first after the restart: covers nothing
	f.Add(smp("GPU-a", at(10, 31, 0, 0), 100, 60_000))
	checkRollups(t, f.Snapshot(), []roll{{key: "GPU-a", hour: 10, observed: 660, active: 360, utilSum: 26000, energyJ: 5060, maxFB: 9000, xids: 1, samples: 12}})
	f.Flush(at(11, 0, 0, 0))
	if f.Restore(stored) {
		t.Error("restore into a flushed hour accepted")
	}
}

func TestFolderSimulatedDay(t *testing.T) {
	// A day of a small simulated cluster at one-minute polls: every hour of
	// every visible GPU is accounted for, nothing exceeds the hour, and
	// flaky GPUs have unobserved time.
	clock := at(0, 0, 0, 0)
	sim := NewSimulator(SimConfig{Seed: 3, Cluster: "day", Nodes: 4, GPUsPerNode: 8, Interval: time.Minute, Now: func() time.Time { return clock }})
	f := NewFolder(FolderConfig{Interval: time.Minute})
	var all []Rollup
	for i := 0; i <= 24*60; i++ {
		clock = at(0, 0, 0, 0).Add(time.Duration(i) * time.Minute)
		p, err := sim.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Samples {
			f.Add(s)
		}
		if i%7 == 0 {
			all = append(all, f.Flush(clock.Add(-2*time.Minute))...)
		}
	}
	all = append(all, f.Flush(clock.Add(time.Hour))...)
	perDevice := map[string]float64{}
	seen := map[string]bool{}
	for _, r := range all {
		k := r.Key + r.Hour.String()
		if seen[k] {
			t.Fatalf("device-hour %s returned twice", k)
		}
		seen[k] = true
		if r.ObservedSeconds > 3600+1e-6 || r.ActiveSeconds > r.ObservedSeconds+1e-6 || r.EnergyJ < 0 || r.MeanUtil() > 100 {
			t.Errorf("impossible rollup %+v", r)
		}
		perDevice[r.Key] += r.ObservedSeconds
	}
	if len(perDevice) != len(sim.GPUs()) {
		t.Errorf("%d devices rolled up, simulator shows %d", len(perDevice), len(sim.GPUs()))
	}
	full, gappy := 0, 0
	for _, obs := range perDevice {
		switch {
		case obs == 86400:
			full++
		case obs < 86400:
			gappy++
		default:
			t.Errorf("observed %g s in a day", obs)
		}
	}
	if full == 0 || gappy == 0 {
		t.Errorf("full %d, gappy %d: want both", full, gappy)
	}
}

// TestFolderFirstSampleCarriesThreshold: an hour that holds a first sample
// and no span yet already records the threshold it is folded at, for a
// whole GPU and for a MIG instance, so that its stored row and the next
// write's agree on it (the store moves the day's totals by difference only
// when they do).
func TestFolderFirstSampleCarriesThreshold(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  FolderConfig
		s    Sample
		want float64
	}{
		{"whole GPU, default threshold", FolderConfig{Interval: time.Minute}, smp("GPU-a", at(10, 0, 5, 0), 50, 0), DefaultBusyThresholdPct},
		{"whole GPU, threshold set", FolderConfig{Interval: time.Minute, BusyThresholdPct: 20}, smp("GPU-a", at(10, 0, 5, 0), 50, 0), 20},
		{"MIG instance", FolderConfig{Interval: time.Minute, BusyThresholdPct: 12},
			Sample{UUID: "GPU-m", MIG: "1", Profile: "3g.40gb", Time: at(10, 0, 5, 0), GRActive: fp(0.5)}, 12},
	} {
		f := NewFolder(c.cfg)
		f.Add(c.s)
		rs := f.Snapshot()
		if len(rs) == 0 {
			t.Fatalf("%s: no rollup", c.name)
		}
		for _, r := range rs {
			if r.ObservedSeconds != 0 || r.BusyThresholdPct != c.want {
				t.Errorf("%s: %s observed %v s at threshold %v, want 0 s at %v", c.name, r.Key, r.ObservedSeconds, r.BusyThresholdPct, c.want)
			}
		}
	}
}
