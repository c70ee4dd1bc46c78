package dcgm

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tests of the figures an audit checks: time per physical GPU (MIG
// instances a breakdown), XID events, energy bounds.

// checkPhysical fails on a rollup that claims more than its hour: more than
// 3,600 s observed, more busy than observed, utilisation above 100 %, or
// more energy than the GPU's maximum power allows.
func checkPhysical(t *testing.T, rs []Rollup) {
	t.Helper()
	for _, r := range rs {
		if r.ObservedSeconds > 3600+1e-6 || r.ActiveSeconds > r.ObservedSeconds+1e-6 || r.UtilSum > 100*r.ObservedSeconds+1e-6 ||
			r.EnergyJ > MaxPowerW(r.Model)*r.ObservedSeconds+1e-6 || r.EnergyJ < 0 {
			t.Errorf("impossible rollup %s", rollOf(r))
		}
	}
}

// physical sums the physical GPUs' rollups (and, apart, the instances').
func physical(rs []Rollup) (gpus, insts map[string]Rollup) {
	gpus, insts = map[string]Rollup{}, map[string]Rollup{}
	for _, r := range rs {
		m := gpus
		if r.MIG != "" {
			m = insts
		}
		s := m[r.Key]
		s.Key, s.UUID, s.MIG, s.Profile, s.Model = r.Key, r.UUID, r.MIG, r.Profile, r.Model
		s.ObservedSeconds += r.ObservedSeconds
		s.ActiveSeconds += r.ActiveSeconds
		s.UtilSum += r.UtilSum
		s.GRActiveSum += r.GRActiveSum
		s.EnergyJ += r.EnergyJ
		s.MaxFBMiB = max(s.MaxFBMiB, r.MaxFBMiB)
		s.XIDCount += r.XIDCount
		s.EnergyAnomalies += r.EnergyAnomalies
		m[r.Key] = s
	}
	return gpus, insts
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestFolderMIGCountsPhysicalGPUs(t *testing.T) {
	const (
		a100  = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660"
		h100  = "GPU-550b7e4d-2a9d-68c3-7d80-a1f417904033"
		whole = "GPU-c5e176e5-c723-88c6-3f6c-3b36e2c2cf90"
	)
	type gpuWant struct {
		util  float64 // mean utilisation, %
		busy  float64 // share of the observed time
		fb    float64
		insts []string // instance keys in the breakdown
	}
	for _, tc := range []struct {
		name    string
		fixture string
		want    map[string]gpuWant
	}{{
		// NVIDIA's own A100 sample: the whole GPU's series and one 1g.5gb
		// instance's. Counted as two devices it was 200 % of the GPU's time.
		name: "NVIDIA A100 MIG sample", fixture: "a100_mig_nvidia.prom",
		want: map[string]gpuWant{a100: {util: 99.5687 / 7, busy: 1, fb: 4845, insts: []string{a100 + "/13"}}},
	}, {
		// An H100 in 3g.40gb + 2g.20gb + 1g.10gb, whose power, energy and
		// XID come only on the instances' series, and a whole H100.
		name: "H100 MIG and whole", fixture: "mig.prom",
		want: map[string]gpuWant{
			h100:  {util: (61.2*3 + 4.7*2 + 0*1) / 7, busy: 1, fb: 38211 + 9120 + 13, insts: []string{h100 + "/1", h100 + "/13", h100 + "/5"}},
			whole: {util: 64, busy: 1, fb: 70211},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			// An hour of 15-second scrapes of the same answer.
			f := NewFolder(FolderConfig{Interval: 15 * time.Second})
			const polls = 240
			for i := range polls {
				p := parseFixture(t, tc.fixture)
				for _, s := range p.Samples {
					s.Time = t0.Add(time.Duration(i) * 15 * time.Second)
					f.Add(s)
				}
			}
			rs := f.Snapshot()
			checkPhysical(t, rs)
			gpus, insts := physical(rs)
			clock := float64(polls-1) * 15 // from the first scrape to the last
			if len(gpus) != len(tc.want) {
				t.Fatalf("%d physical GPUs, want %d", len(gpus), len(tc.want))
			}
			var instKeys []string
			for k := range insts {
				instKeys = append(instKeys, k)
			}
			slices.Sort(instKeys)
			var wantInsts []string
			for uuid, w := range tc.want {
				g := gpus[uuid]
				// 100 % of the GPU's time observed: not 100 % per series.
				if !near(g.ObservedSeconds, clock) {
					t.Errorf("%s observed %v s of %v s", uuid, g.ObservedSeconds, clock)
				}
				if !near(g.MeanUtil(), w.util) || !near(g.ActiveSeconds, w.busy*clock) || g.MaxFBMiB != w.fb {
					t.Errorf("%s: util %v busy %v fb %v; want %v %v %v", uuid, g.MeanUtil(), g.ActiveSeconds, g.MaxFBMiB, w.util, w.busy*clock, w.fb)
				}
				for _, k := range w.insts {
					if in := insts[k]; in.UUID != uuid || !near(in.ObservedSeconds, clock) || in.Profile == "" {
						t.Errorf("instance %s: %+v", k, in)
					}
				}
				wantInsts = append(wantInsts, w.insts...)
			}
			slices.Sort(wantInsts)
			if !slices.Equal(instKeys, wantInsts) {
				t.Errorf("instances %v, want %v", instKeys, wantInsts)
			}
		})
	}
}

// TestFolderMIGHostengine: nv-hostengine stamps each entity's values with
// its own time: a GPU's instances come microseconds after the GPU. They
// still form one step of the GPU.
func TestFolderMIGHostengine(t *testing.T) {
	f := NewFolder(FolderConfig{Interval: time.Second})
	start := at(10, 0, 0, 0)
	for i := range 600 {
		t0 := start.Add(time.Duration(i) * time.Second)
		f.Add(Sample{UUID: "GPU-h", Model: "NVIDIA H100 80GB HBM3", Time: t0, Power: fp(400), EnergyMJ: fp(float64(i) * 400_000), XIDs: fp(0)})
		f.Add(Sample{UUID: "GPU-h", MIG: "1", Profile: "4g", Time: t0.Add(time.Microsecond), GRActive: fp(1)})
		f.Add(Sample{UUID: "GPU-h", MIG: "2", Profile: "3g", Time: t0.Add(2 * time.Microsecond), GRActive: fp(0)})
	}
	rs := f.Snapshot()
	checkPhysical(t, rs)
	gpus, insts := physical(rs)
	g := gpus["GPU-h"]
	if !near(g.ObservedSeconds, 599) || !near(g.ActiveSeconds, 599) || !near(g.MeanUtil(), 100*4/7.0) || !near(g.EnergyJ, 599*400) {
		t.Errorf("GPU: observed %v busy %v util %v energy %v", g.ObservedSeconds, g.ActiveSeconds, g.MeanUtil(), g.EnergyJ)
	}
	if len(insts) != 2 || !near(insts["GPU-h/1"].ObservedSeconds, 599) || insts["GPU-h/2"].ActiveSeconds != 0 {
		t.Errorf("instances %+v", insts)
	}
}

func TestProfileSlices(t *testing.T) {
	for p, want := range map[string]int{"3g.40gb": 3, "1g.10gb+me": 1, "7g.80gb": 7, "1g.5gb": 1, "1c.3g.40gb": 3,
		"4g": 4, "": 0, "gpu": 0, "mig": 0, "12g.x": 12} {
		if got := ProfileSlices(p); got != want {
			t.Errorf("ProfileSlices(%q) = %d, want %d", p, got, want)
		}
	}
}

func TestMaxPowerW(t *testing.T) {
	for model, want := range map[string]float64{
		"NVIDIA B200": 1250, "NVIDIA GB200": 1500, "NVIDIA H100 80GB HBM3": 875, "NVIDIA H100 PCIe": 875,
		"NVIDIA H200": 875, "NVIDIA H20": 500, "NVIDIA H800": 875, "NVIDIA A100-SXM4-40GB": 500, "NVIDIA A30": 206.25,
		"NVIDIA L40S": 437.5, "NVIDIA L4": 90, "": DefaultMaxPowerW, "Mystery GPU 9000": DefaultMaxPowerW,
	} {
		if got := MaxPowerW(model); got != want {
			t.Errorf("MaxPowerW(%q) = %v, want %v", model, got, want)
		}
	}
	if migSlices("NVIDIA A30") != 4 || migSlices("NVIDIA A100-SXM4-80GB") != 7 || migSlices("") != 7 {
		t.Error("MIG slices")
	}
}

func TestFolderXIDEvents(t *testing.T) {
	const g = "GPU-x"
	x := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name     string
		restored *Rollup     // a stored hour read back first
		values   []*float64  // at one-minute steps from 10:58
		want     map[int]int // events per hour of the day
	}{
		{name: "the first value only starts the count", values: []*float64{x(79), x(79), x(79)}, want: map[int]int{}},
		{name: "zero, then a code: one event", values: []*float64{x(0), x(79), x(79), x(79)}, want: map[int]int{10: 1}},
		{name: "another code is another event, in its own hour", values: []*float64{x(0), x(79), x(43), x(43), x(0), x(43)},
			want: map[int]int{10: 1, 11: 2}},
		{name: "a blank keeps the value", values: []*float64{x(0), nil, x(79), nil, x(79)}, want: map[int]int{11: 1}},
		{name: "carried across a restart", values: []*float64{x(79), x(79), x(13)}, want: map[int]int{11: 1},
			restored: &Rollup{Key: g, UUID: g, Hour: at(10, 0, 0, 0), LastXID: 79, XIDSeen: true}},
		{name: "a restored zero makes the first code an event", values: []*float64{x(31)}, want: map[int]int{10: 1},
			restored: &Rollup{Key: g, UUID: g, Hour: at(10, 0, 0, 0), XIDSeen: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder(FolderConfig{Interval: time.Minute})
			if tc.restored != nil && !f.Restore(*tc.restored) {
				t.Fatal("restore refused")
			}
			for i, v := range tc.values {
				f.Add(Sample{UUID: g, Time: at(10, 58+i, 0, 0).Add(0), XIDs: v, Util: fp(1)})
			}
			got := map[int]int{}
			for _, r := range f.Flush(at(23, 0, 0, 0)) {
				if r.XIDCount > 0 {
					got[r.Hour.Hour()] = r.XIDCount
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for h, n := range tc.want {
				if got[h] != n {
					t.Errorf("events %v, want %v", got, tc.want)
				}
			}
		})
	}

	// One XID 79 under four hours of 15-second polls is one event, and each
	// hour says what the value was at its end.
	f := NewFolder(FolderConfig{Interval: 15 * time.Second})
	f.Add(Sample{UUID: g, Time: at(9, 59, 45, 0), XIDs: fp(0)})
	for i := range 4 * 240 {
		f.Add(Sample{UUID: g, Time: at(10, 0, 0, 0).Add(time.Duration(i) * 15 * time.Second), XIDs: fp(79)})
	}
	events := 0
	for _, r := range f.Flush(at(23, 0, 0, 0)) {
		events += r.XIDCount
		if r.Hour.Hour() >= 10 && (!r.XIDSeen || r.LastXID != 79) {
			t.Errorf("hour %d: last XID %v (seen %t)", r.Hour.Hour(), r.LastXID, r.XIDSeen)
		}
	}
	if events != 1 {
		t.Errorf("%d events for one XID 79 held four hours, want 1", events)
	}
}

func TestFolderEnergyBounds(t *testing.T) {
	const model = "NVIDIA H100 80GB HBM3" // at most 875 W
	type reading struct {
		sec     int
		counter float64 // mJ; < 0 leaves the counter out
		power   float64 // W; < 0 leaves it out
	}
	for _, tc := range []struct {
		name      string
		readings  []reading
		energyJ   float64
		anomalies int
	}{{
		name:     "steady 700 W",
		readings: []reading{{0, 0, 700}, {15, 10.5e6, 700}, {30, 21e6, 700}},
		energyJ:  21000,
	}, {
		name:     "a spike: the power reading stands in for the interval, the counter goes on from its new value",
		readings: []reading{{0, 0, 700}, {15, 10.5e6, 700}, {30, 10.5e6 + 1e15, 650}, {45, 21e6 + 1e15, 700}},
		energyJ:  10500 + 650*15 + 10500, anomalies: 1,
	}, {
		name:     "a drop no reboot explains",
		readings: []reading{{0, 1e11, 700}, {15, 1e11 + 10.5e6, 700}, {30, (1e11 + 10.5e6) / 2, 600}, {45, (1e11+10.5e6)/2 + 10.5e6, 700}},
		energyJ:  10500 + 600*15 + 10500, anomalies: 1,
	}, {
		name:     "a plausible drop is a reset: the new reading is the energy since",
		readings: []reading{{0, 1e11, 700}, {15, 1e11 + 10.5e6, 700}, {30, 5e6, 700}},
		energyJ:  10500 + 5000,
	}, {
		name:     "more than maximum power × (interval + grace) is an anomaly",
		readings: []reading{{0, 0, 700}, {15, 40e6, 700}},
		energyJ:  700 * 15, anomalies: 1,
	}, {
		name:      "an anomaly without a power reading adds nothing",
		readings:  []reading{{0, 0, -1}, {15, 1e15, -1}},
		anomalies: 1,
	}, {
		// dcgm-exporter refreshes every 30 s; polled every 15 s, the counter
		// stands still, then rises by 30 s of 700 W: more than 875 W × 15 s,
		// so the excess waits for the next interval. Nothing is lost.
		name:     "a counter refreshed less often than polled",
		readings: []reading{{0, 0, 700}, {15, 0, 700}, {30, 21e6, 700}, {45, 21e6, 700}, {60, 42e6, 700}, {75, 42e6, 700}},
		energyJ:  42000,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder(FolderConfig{Interval: 15 * time.Second})
			for _, r := range tc.readings {
				s := Sample{UUID: "GPU-e", Model: model, Time: at(10, 0, 0, 0).Add(time.Duration(r.sec) * time.Second), Util: fp(50)}
				if r.counter >= 0 {
					s.EnergyMJ = fp(r.counter)
				}
				if r.power >= 0 {
					s.Power = fp(r.power)
				}
				f.Add(s)
			}
			rs := f.Snapshot()
			checkPhysical(t, rs)
			if len(rs) != 1 || !near(rs[0].EnergyJ, tc.energyJ) || rs[0].EnergyAnomalies != tc.anomalies {
				t.Errorf("rollups %v: energy %v J, %d anomalies; want %v J, %d", rs, rs[0].EnergyJ, rs[0].EnergyAnomalies, tc.energyJ, tc.anomalies)
			}
		})
	}
}

// TestFolderEnergyNeverAboveMaximum feeds counters gone wild and checks
// that no hour gets more energy than the GPU's maximum power allows.
func TestFolderEnergyNeverAboveMaximum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, model := range []string{"NVIDIA B200", "NVIDIA H20", ""} {
		f := NewFolder(FolderConfig{Interval: 15 * time.Second})
		counter := 1e9
		for i := range 4 * 240 {
			switch rng.IntN(6) {
			case 0:
				counter *= rng.Float64() * 3
			case 1:
				counter += rng.Float64() * 1e8
			default:
				counter += 15 * 500 * 1000 * rng.Float64()
			}
			f.Add(Sample{UUID: "GPU-w", Model: model, Time: at(10, 0, 0, 0).Add(time.Duration(i) * 15 * time.Second),
				EnergyMJ: fp(math.Floor(counter)), Power: fp(rng.Float64() * 5000), Util: fp(100)})
		}
		rs := f.Flush(at(23, 0, 0, 0))
		checkPhysical(t, rs)
		anomalies := 0
		for _, r := range rs {
			anomalies += r.EnergyAnomalies
		}
		if anomalies == 0 {
			t.Errorf("%q: no anomaly counted in a wild counter", model)
		}
	}
}

// TestSimulatorMIG: a simulated cluster with MIG GPUs shows them as
// dcgm-exporter does, and a day of it folds to 100 % of each physical GPU's
// time, with the instances as a breakdown.
func TestSimulatorMIG(t *testing.T) {
	var clock time.Time
	cfg := SimConfig{Seed: 4, Cluster: "mig", Nodes: 2, GPUsPerNode: 4, MIGPerNode: 2, Interval: time.Minute,
		Profiles: SimProfiles{Busy: 1}, BlankRate: -1, Now: func() time.Time { return clock }}
	sim := NewSimulator(cfg)
	clock = at(0, 0, 0, 0)
	p, _ := sim.Poll(context.Background())
	if len(p.Samples) != 8+4*4 {
		t.Fatalf("%d samples, want 8 GPUs and 16 instances", len(p.Samples))
	}
	migs := 0
	for _, s := range p.Samples {
		switch {
		case s.MIG != "":
			if s.Power != nil || s.EnergyMJ != nil || s.XIDs != nil || s.Util != nil || s.GRActive == nil || s.FBUsed == nil ||
				!slices.Contains(DefaultMIGLayout, s.Profile) {
				t.Errorf("instance sample %s", sampleString(s))
			}
		case s.Util == nil:
			migs++
			if s.Power == nil || s.EnergyMJ == nil || s.XIDs == nil || s.GRActive == nil {
				t.Errorf("MIG GPU sample %s", sampleString(s))
			}
		}
	}
	if migs != 4 {
		t.Errorf("%d MIG GPUs, want 2 a node", migs)
	}
	// In exporter text, every instance's series repeat the GPU's power,
	// energy and XID; parsed back, they are the GPU's again.
	var b strings.Builder
	if err := WriteExporter(&b, p.Samples); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "DCGM_FI_DEV_POWER_USAGE{"); n != 8+16 {
		t.Errorf("%d power series, want one per GPU and per instance", n)
	}
	q, err := ParseExporter(strings.NewReader(b.String()), clock)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(p.Samples)
	SortSamples(want)
	for i := range want {
		if g, w := sampleString(q.Samples[i]), sampleString(want[i]); g != w {
			t.Errorf("sample %d through the text:\n got %s\nwant %s", i, g, w)
		}
	}

	f := NewFolder(FolderConfig{Interval: time.Minute})
	for i := 0; i <= 24*60; i++ {
		clock = at(0, 0, 0, 0).Add(time.Duration(i) * time.Minute)
		p, _ := sim.Poll(context.Background())
		for _, s := range p.Samples {
			f.Add(s)
		}
	}
	rs := f.Flush(at(0, 0, 0, 0).Add(25 * time.Hour))
	checkPhysical(t, rs)
	gpus, insts := physical(rs)
	if len(gpus) != 8 || len(insts) != 16 {
		t.Fatalf("%d GPUs and %d instances rolled up", len(gpus), len(insts))
	}
	for k, g := range gpus {
		if g.ObservedSeconds != 86400 || g.ActiveSeconds != 86400 || g.MeanUtil() <= 0 || g.MeanUtil() > 100 || g.EnergyJ <= 0 {
			t.Errorf("%s: observed %v busy %v util %v energy %v", k, g.ObservedSeconds, g.ActiveSeconds, g.MeanUtil(), g.EnergyJ)
		}
	}
	for k, in := range insts {
		if in.ObservedSeconds != 86400 || in.EnergyJ != 0 {
			t.Errorf("instance %s: %+v", k, in)
		}
	}
}

// TestSimulatorEnergyGlitches: glitches in the counter are counted as
// anomalies and, since the simulator's power holds over each interval, the
// power readings standing in for them give the same energy as a clean run.
func TestSimulatorEnergyGlitches(t *testing.T) {
	run := func(glitches float64) (energy float64, anomalies int) {
		var clock time.Time
		sim := NewSimulator(SimConfig{Seed: 8, Cluster: "glitch", Nodes: 5, GPUsPerNode: 8, Interval: time.Minute,
			Profiles: SimProfiles{Busy: 1, Bursty: 1}, BlankRate: -1, RebootsPerHour: -1, EnergyGlitchesPerHour: glitches,
			Now: func() time.Time { return clock }})
		f := NewFolder(FolderConfig{Interval: time.Minute})
		for i := 0; i <= 48*60; i++ {
			clock = at(0, 0, 0, 0).Add(time.Duration(i) * time.Minute)
			p, _ := sim.Poll(context.Background())
			for _, s := range p.Samples {
				f.Add(s)
			}
		}
		rs := f.Flush(at(0, 0, 0, 0).Add(49 * time.Hour))
		checkPhysical(t, rs)
		for _, r := range rs {
			energy += r.EnergyJ
			anomalies += r.EnergyAnomalies
		}
		return energy, anomalies
	}
	clean, none := run(0)
	glitchy, anomalies := run(0.02)
	if none != 0 || anomalies < 10 {
		t.Errorf("%d anomalies in a clean run, %d with glitches (≈ 40 GPUs × 48 h × 2 %%)", none, anomalies)
	}
	if !near(glitchy, clean) {
		t.Errorf("energy %v J with glitches, %v J without", glitchy, clean)
	}
}

func TestSimulatorDuplicateUUIDs(t *testing.T) {
	a := NewSimulator(SimConfig{Seed: 1, Cluster: "a", GPUsPerNode: 4, Profiles: SimProfiles{Busy: 1}})
	shared := []string{a.GPUs()[0].UUID, a.GPUs()[1].UUID}
	b := NewSimulator(SimConfig{Seed: 2, Cluster: "b", GPUsPerNode: 4, Profiles: SimProfiles{Busy: 1}, DuplicateUUIDs: shared})
	got := b.GPUs()
	if got[0].UUID != shared[0] || got[1].UUID != shared[1] || got[2].UUID == a.GPUs()[2].UUID || got[0].Node == a.GPUs()[0].Node {
		t.Errorf("b's GPUs %+v", got)
	}
	p, _ := b.Poll(context.Background())
	if p.Samples[0].UUID != shared[0] {
		t.Errorf("b polls %s first", p.Samples[0].UUID)
	}
}
