package dcgm

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runSim polls a fresh simulator at the given instants and renders the polls.
func runSim(cfg SimConfig, instants []time.Time) []string {
	var clock time.Time
	cfg.Now = func() time.Time { return clock }
	sim := NewSimulator(cfg)
	var out []string
	for _, t := range instants {
		clock = t
		p, err := sim.Poll(context.Background())
		if err != nil {
			panic(err)
		}
		var b strings.Builder
		for _, s := range p.Samples {
			b.WriteString(sampleString(s))
			b.WriteByte('\n')
		}
		b.WriteString("skipped=" + strconv.Itoa(p.Skipped))
		out = append(out, b.String())
	}
	return out
}

func minutes(start time.Time, n int, step time.Duration) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = start.Add(time.Duration(i) * step)
	}
	return ts
}

func TestSimulatorDeterministic(t *testing.T) {
	cfg := SimConfig{Seed: 42, Cluster: "Naver Cloud GPU #1", Nodes: 4, GPUsPerNode: 8, Model: "NVIDIA B200", Interval: 10 * time.Second}
	// Irregular instants, with a repeat and a step back.
	instants := append(minutes(t0, 30, 7*time.Second), t0.Add(3*time.Minute), t0.Add(10*time.Minute), t0.Add(10*time.Minute))
	a := runSim(cfg, instants)
	b := runSim(cfg, instants)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("poll %d differs between runs with the same seed:\n%s\n---\n%s", i, a[i], b[i])
		}
	}
	cfg2 := cfg
	cfg2.Seed = 43
	c := runSim(cfg2, instants)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same != 0 {
		t.Errorf("%d of %d polls identical with a different seed", same, len(a))
	}
}

func TestSimulatorGPUs(t *testing.T) {
	cfg := SimConfig{Seed: 1, Cluster: "KT Cloud", Nodes: 25, GPUsPerNode: 8, Now: func() time.Time { return t0 }}
	sim := NewSimulator(cfg)
	gpus := sim.GPUs()
	uuidRE := regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, g := range gpus {
		if !uuidRE.MatchString(g.UUID) || seen[g.UUID] {
			t.Errorf("bad or repeated UUID %q", g.UUID)
		}
		seen[g.UUID] = true
		if !strings.HasPrefix(g.Node, "kt-cloud-gn0") || g.Model != "NVIDIA H100 80GB HBM3" || g.Index < 0 || g.Index > 7 {
			t.Errorf("GPU %+v", g)
		}
	}
	// 3 % of 200 GPUs are missing entirely: never listed, never polled.
	if len(gpus) != 194 {
		t.Errorf("%d GPUs listed, want 194", len(gpus))
	}
	counts := map[simProfile]int{}
	for _, g := range sim.gpus {
		counts[g.profile]++
	}
	if counts[simIdle] != 30 || counts[simBusy] != 100 || counts[simBursty] != 50 || counts[simFlaky] != 14 || counts[simMissing] != 6 {
		t.Errorf("profile counts %v", counts)
	}
	// UUIDs are stable: a second simulator with the same seed and cluster
	// names the same GPUs; another seed or cluster names others.
	again := NewSimulator(cfg).GPUs()
	for i := range gpus {
		if again[i] != gpus[i] {
			t.Fatalf("GPU %d: %+v then %+v", i, gpus[i], again[i])
		}
	}
	other := NewSimulator(SimConfig{Seed: 2, Cluster: "KT Cloud", Nodes: 25, GPUsPerNode: 8})
	if other.gpus[0].info.UUID == sim.gpus[0].info.UUID {
		t.Error("another seed gives the same UUID")
	}
	// Every GPU the simulator polls is listed.
	p, _ := sim.Poll(context.Background())
	for _, s := range p.Samples {
		if !seen[s.UUID] {
			t.Errorf("polled GPU %s not listed", s.UUID)
		}
	}
}

func TestSimulatorBehaviour(t *testing.T) {
	var clock time.Time
	sim := NewSimulator(SimConfig{Seed: 9, Cluster: "behaviour", Nodes: 50, GPUsPerNode: 8, Interval: 10 * time.Second,
		Now: func() time.Time { return clock }})
	byUUID := map[string]*simGPU{}
	for _, g := range sim.gpus {
		byUUID[g.info.UUID] = g
	}
	seen := map[string]int{}
	bursty := map[string]map[bool]bool{}
	skipped, blanks, xids := 0, 0, 0
	lastXID := map[string]float64{}
	const polls = 6 * 60 // an hour at 10 s
	for i := range polls {
		clock = t0.Add(time.Duration(i) * 10 * time.Second)
		p, err := sim.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		skipped += p.Skipped
		for _, s := range p.Samples {
			g := byUUID[s.UUID]
			seen[s.UUID]++
			if !s.Time.Equal(clock) || s.Node != g.info.Node || s.Index != g.info.Index {
				t.Fatalf("sample %+v", s)
			}
			for _, v := range []*float64{s.Util, s.GRActive, s.SMActive, s.FBUsed, s.Power, s.EnergyMJ, s.XIDs} {
				if v == nil {
					blanks++
				}
			}
			if s.XIDs != nil {
				// DCGM shows the last XID: an event is a change to a new code.
				if prev, ok := lastXID[s.UUID]; ok && *s.XIDs != 0 && *s.XIDs != prev {
					xids++
				}
				lastXID[s.UUID] = *s.XIDs
			}
			if s.Util == nil {
				continue
			}
			u := *s.Util
			switch g.profile {
			case simIdle:
				if u != 0 || s.Labels != nil {
					t.Errorf("idle GPU at %g%% with %v", u, s.Labels)
				}
			case simBusy:
				if u < 85 || u > 100 || s.Labels["pod"] == "" {
					t.Errorf("busy GPU at %g%% with %v", u, s.Labels)
				}
			case simBursty:
				if bursty[s.UUID] == nil {
					bursty[s.UUID] = map[bool]bool{}
				}
				bursty[s.UUID][u > 0] = true
			}
			if s.GRActive != nil && (*s.GRActive < 0 || *s.GRActive > 1) {
				t.Errorf("GR active %g", *s.GRActive)
			}
		}
	}
	if blanks != skipped || skipped == 0 {
		t.Errorf("%d blank fields, %d counted as skipped; want equal and some", blanks, skipped)
	}
	if xids > 20 {
		t.Errorf("%d XID events in an hour of 400 GPUs: not rare", xids)
	}
	onOff := 0
	for _, phases := range bursty {
		if phases[true] && phases[false] {
			onOff++
		}
	}
	if onOff == 0 {
		t.Error("no bursty GPU was seen both on and off in an hour")
	}
	for uuid, g := range byUUID {
		switch g.profile {
		case simMissing:
			if seen[uuid] != 0 {
				t.Errorf("missing GPU polled %d times", seen[uuid])
			}
		case simFlaky:
			if seen[uuid] == 0 || seen[uuid] == polls {
				t.Errorf("flaky GPU seen in %d of %d polls", seen[uuid], polls)
			}
		default:
			if seen[uuid] != polls {
				t.Errorf("%v GPU seen in %d of %d polls", g.profile, seen[uuid], polls)
			}
		}
	}
}

func TestSimulatorEnergyCounter(t *testing.T) {
	var clock time.Time
	sim := NewSimulator(SimConfig{Seed: 5, Cluster: "energy", Nodes: 10, GPUsPerNode: 8, Interval: time.Minute,
		Profiles: SimProfiles{Busy: 1}, BlankRate: -1, RebootsPerHour: 0.01, Now: func() time.Time { return clock }})
	last := map[string]float64{}
	resets, rises := 0, 0
	// Ten days at five-minute polls.
	for i := range 10 * 24 * 12 {
		clock = t0.Add(time.Duration(i) * 5 * time.Minute)
		p, _ := sim.Poll(context.Background())
		for _, s := range p.Samples {
			e := *s.EnergyMJ
			if prev, ok := last[s.UUID]; ok {
				switch {
				case e < prev:
					resets++
					if e > *s.Power*300*1000+1 { // since the reboot: at most 5 min at this power
						t.Errorf("after a reset the counter holds %g mJ", e)
					}
				case e > prev:
					rises++
					// power × dt: 5 minutes at the current power.
					if d := e - prev; d < *s.Power*300*1000-2 || d > *s.Power*300*1000+2 {
						t.Errorf("counter rose %g mJ at %g W over 300 s", d, *s.Power)
					}
				}
			}
			last[s.UUID] = e
		}
	}
	// 80 GPUs × 240 h × 1 % ≈ 190 reboots.
	if resets < 100 || resets > 300 || rises == 0 {
		t.Errorf("%d resets, %d rises", resets, rises)
	}
}

func TestSimulatorCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewSimulator(SimConfig{}).Poll(ctx); err == nil {
		t.Error("poll with a cancelled context succeeded")
	}
}

func TestSimulatorFeedsFolder(t *testing.T) {
	// Simulator → exporter text → parser → folder: the same rollups as
	// simulator → folder directly, MIG GPUs, XIDs and energy glitches included.
	var clock time.Time
	cfg := SimConfig{Seed: 11, Cluster: "pipe", Nodes: 2, GPUsPerNode: 8, Interval: 30 * time.Second, MIGPerNode: 2,
		EnergyGlitchesPerHour: 0.05, XIDsPerHour: 0.1, Now: func() time.Time { return clock }}
	direct, viaText := NewFolder(FolderConfig{Interval: 30 * time.Second}), NewFolder(FolderConfig{Interval: 30 * time.Second})
	sim := NewSimulator(cfg)
	for i := range 240 {
		clock = t0.Add(time.Duration(i) * 30 * time.Second)
		p, _ := sim.Poll(context.Background())
		var b strings.Builder
		if err := WriteExporter(&b, p.Samples); err != nil {
			t.Fatal(err)
		}
		q, err := ParseExporter(strings.NewReader(b.String()), clock)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Samples {
			direct.Add(s)
		}
		for _, s := range q.Samples {
			viaText.Add(s)
		}
	}
	a, b := direct.Snapshot(), viaText.Snapshot()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d rollups", len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Errorf("rollup %d:\n%+v\n%+v", i, a[i], b[i])
		}
	}
}

// TestSimulatorNodeSources: each node's endpoint shows that node's GPUs,
// the endpoints together show what Poll shows, and a hung node's endpoint
// answers only when its poll's context ends (or, ignoring its context,
// when it is closed).
func TestSimulatorNodeSources(t *testing.T) {
	t.Parallel()
	clock := t0
	cfg := SimConfig{Seed: 5, Cluster: "hung", Nodes: 3, GPUsPerNode: 4, MIGPerNode: 1, Profiles: SimProfiles{Busy: 1},
		BlankRate: -1, HungNodes: []int{1}, Now: func() time.Time { return clock }}
	all := NewSimulator(cfg)
	nodes := NewSimulator(cfg)
	whole, err := all.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var union []string
	for n := range nodes.Nodes() {
		if n == 1 {
			continue
		}
		p, err := nodes.NodeSource(n).Poll(context.Background())
		if err != nil {
			t.Fatalf("node %d: %v", n, err)
		}
		if len(p.Samples) != 4+4 { // 3 whole GPUs, 1 MIG GPU with its 4 instances
			t.Errorf("node %d: %d samples, want 8", n, len(p.Samples))
		}
		for _, s := range p.Samples {
			if s.Node != nodes.NodeName(n) {
				t.Errorf("node %d's endpoint shows a GPU of %s", n, s.Node)
			}
			union = append(union, sampleString(s))
		}
	}
	var want []string
	for _, s := range whole.Samples {
		if s.Node != all.NodeName(1) {
			want = append(want, sampleString(s))
		}
	}
	if !reflect.DeepEqual(union, want) {
		t.Errorf("the nodes' endpoints differ from Poll:\n%v\nwant\n%v", union, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := nodes.NodeSource(1).Poll(ctx); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("the hung node answered: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "hung-gn002") {
		t.Errorf("the hung node's poll ended with %v", err)
	}

	cfg.HangIgnoresContext = true
	wedged := NewSimulator(cfg).NodeSource(1)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	go func() { _, err := wedged.Poll(ctx); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("the wedged node heeded its context: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	wedged.Close()
	if err := <-done; err == nil {
		t.Error("the wedged node's poll succeeded after Close")
	}
}
