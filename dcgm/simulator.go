package dcgm

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SimProfiles are the fractions of a simulated cluster's GPUs that behave
// each way. They need not add up to one (they are normalised); all zero
// means the defaults.
type SimProfiles struct {
	Idle    float64 // never used: utilisation 0, idle power
	Busy    float64 // a training job: 85–100 % utilisation, near-TDP power
	Bursty  float64 // jobs that come and go: on and off phases of 15 minutes
	Flaky   float64 // busy or bursty, but the GPU vanishes from some polls (gaps)
	Missing float64 // never reported at all
}

// DefaultSimProfiles is the mix used when SimConfig.Profiles is zero.
var DefaultSimProfiles = SimProfiles{Idle: 0.15, Busy: 0.50, Bursty: 0.25, Flaky: 0.07, Missing: 0.03}

// SimConfig configures a Simulator.
type SimConfig struct {
	Seed        int64
	Cluster     string // names the nodes and the UUIDs
	Nodes       int    // default 1
	GPUsPerNode int    // default 8
	Model       string // default "NVIDIA H100 80GB HBM3"
	// Now is the clock; every value is a function of the seed and Now's
	// instant (and, for the energy counter, of the instants of earlier polls).
	Now func() time.Time
	// Interval is how long a simulated value holds before it changes
	// (default 10 s); gaps and blanks are decided per interval.
	Interval time.Duration
	Profiles SimProfiles
	// Rates of rare events; 0 means the default, a negative value none.
	BlankRate      float64 // chance that one field of one sample is blank (default 0.002)
	RebootsPerHour float64 // chance per GPU per hour that the energy counter resets (default 0.001)
	XIDsPerHour    float64 // chance per GPU per hour of one XID event (default 0.002)
	// EnergyGlitchesPerHour is the chance per GPU per hour that its energy
	// counter misreads for good: jumps up by 10^15 mJ (a spike) or drops to
	// half its reading (a drop no reboot explains). 0 means none.
	EnergyGlitchesPerHour float64

	// MIGPerNode makes the first MIGPerNode GPUs of each node MIG-enabled,
	// split into MIGLayout's GPU instances (default 3g.40gb, 2g.20gb,
	// 1g.10gb, 1g.10gb). A poll shows such a GPU as dcgm-exporter does: the
	// whole GPU's power, energy counter, XID, framebuffer and GR/SM activity
	// (no utilisation: NVML has none in MIG mode), and one sample per
	// instance (MIG, Profile) with its own GR/SM activity and framebuffer.
	// Each instance runs its own jobs.
	MIGPerNode int
	MIGLayout  []string
	// DuplicateUUIDs gives the first GPUs these UUIDs instead of their own,
	// as a provider that cloned a node's identity would: with another
	// cluster's UUIDs, the same GPU is reported by two clusters.
	DuplicateUUIDs []string
	// HungNodes are nodes (numbered from 0) whose endpoint hangs: a poll of
	// NodeSource(n) for such a node never answers, as a dcgm-exporter on a
	// wedged host accepts the connection and says nothing. It returns when
	// the poll's context ends, or never when HangIgnoresContext is set (a
	// wedged library call). Poll, which reads every node at once, is not
	// affected.
	HungNodes          []int
	HangIgnoresContext bool
}

// DefaultMIGLayout splits an 80 GB GPU into four instances (7 slices).
var DefaultMIGLayout = []string{"3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"}

// GPUInfo describes a GPU a source shows, for discovery.
type GPUInfo struct {
	UUID  string
	Model string
	Node  string
	Index int
}

type simProfile uint8

const (
	simIdle simProfile = iota
	simBusy
	simBursty
	simFlaky
	simMissing
)

// modelSpec holds what the simulator needs of a GPU model.
type modelSpec struct {
	tdpW, idleW, fbMiB float64
}

func specOf(model string) modelSpec {
	switch m := strings.ToUpper(model); {
	case strings.Contains(m, "B200"):
		return modelSpec{tdpW: 1000, idleW: 140, fbMiB: 183359}
	case strings.Contains(m, "H200"):
		return modelSpec{tdpW: 700, idleW: 90, fbMiB: 143771}
	case strings.Contains(m, "A100"):
		return modelSpec{tdpW: 400, idleW: 55, fbMiB: 81920}
	default:
		return modelSpec{tdpW: 700, idleW: 70, fbMiB: 81559}
	}
}

type simGPU struct {
	info    GPUInfo
	key     uint64
	profile simProfile
	work    simProfile // what a flaky GPU runs: busy or bursty
	// energy counter state
	energyMJ float64
	offsetMJ float64 // what a glitch added to the reading
	lastT    time.Time
	started  bool
	// XID state: the latest event before xidHour (looked up once an hour)
	xidHour int64
	xidPrev float64
	// MIG instances, when the GPU is MIG-enabled
	migs []*simInstance
}

// simInstance is one MIG instance of a simulated GPU.
type simInstance struct {
	g       simGPU // its own hashes and activity; the energy counter is the GPU's
	id      string // GPU_I_ID
	profile string
	weight  float64 // its share of the GPU's compute slices
}

// Simulator is a deterministic stand-in for a cluster's DCGM telemetry: the
// same seed and the same sequence of clock instants give the same polls.
// It is safe for concurrent use.
type Simulator struct {
	cfg  SimConfig
	spec modelSpec
	ns   string // namespace label of simulated jobs

	mu   sync.Mutex
	gpus []*simGPU
}

// Hash domains, so that independent decisions use independent bits.
const (
	hProfile uint64 = iota + 1
	hWork
	hSlot
	hPhase
	hGap
	hBlank
	hXID
	hXIDAt
	hReboot
	hRebootAt
	hEnergy0
	hJob
	hGlitch
	hGlitchAt
)

// NewSimulator returns a simulator for cfg, with defaults filled in.
func NewSimulator(cfg SimConfig) *Simulator {
	if cfg.Nodes <= 0 {
		cfg.Nodes = 1
	}
	if cfg.GPUsPerNode <= 0 {
		cfg.GPUsPerNode = 8
	}
	if cfg.Model == "" {
		cfg.Model = "NVIDIA H100 80GB HBM3"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Profiles == (SimProfiles{}) {
		cfg.Profiles = DefaultSimProfiles
	}
	cfg.BlankRate = rate(cfg.BlankRate, 0.002)
	cfg.RebootsPerHour = rate(cfg.RebootsPerHour, 0.001)
	cfg.XIDsPerHour = rate(cfg.XIDsPerHour, 0.002)
	cfg.EnergyGlitchesPerHour = max(cfg.EnergyGlitchesPerHour, 0)
	if cfg.MIGPerNode > 0 && len(cfg.MIGLayout) == 0 {
		cfg.MIGLayout = DefaultMIGLayout
	}
	slug := slugify(cfg.Cluster)
	s := &Simulator{cfg: cfg, spec: specOf(cfg.Model), ns: slug}

	n := cfg.Nodes * cfg.GPUsPerNode
	s.gpus = make([]*simGPU, 0, n)
	for node := range cfg.Nodes {
		host := fmt.Sprintf("%s-gn%03d", slug, node+1)
		for i := range cfg.GPUsPerNode {
			g := &simGPU{info: GPUInfo{Model: cfg.Model, Node: host, Index: i}}
			id := fmt.Sprintf("%d/%s/%s/%d", cfg.Seed, cfg.Cluster, host, i)
			g.info.UUID = simUUID(id)
			h := fnv.New64a()
			h.Write([]byte(id))
			g.key = mix(h.Sum64())
			if i < cfg.MIGPerNode {
				g.migs = newInstances(g, cfg.MIGLayout)
			}
			s.gpus = append(s.gpus, g)
		}
	}
	for i, u := range cfg.DuplicateUUIDs {
		if i < len(s.gpus) {
			s.gpus[i].info.UUID = u
		}
	}
	s.assignProfiles()
	for _, g := range s.gpus {
		for _, m := range g.migs {
			m.g.profile, m.g.work = g.profile, g.work
			m.g.info = g.info
		}
	}
	return s
}

// newInstances splits a GPU into MIG instances of the layout's profiles,
// numbered as NVML numbers GPU instances of those sizes.
func newInstances(g *simGPU, layout []string) []*simInstance {
	next := map[int]int{7: 0, 4: 1, 3: 1, 2: 3, 1: 7}
	total := 0
	for _, p := range layout {
		total += max(ProfileSlices(p), 1)
	}
	total = max(total, 7)
	out := make([]*simInstance, len(layout))
	for i, p := range layout {
		n := max(ProfileSlices(p), 1)
		id := next[n]
		next[n]++
		out[i] = &simInstance{g: simGPU{key: mix(g.key ^ uint64(i+1)*0x9e3779b97f4a7c15)}, id: strconv.Itoa(id),
			profile: p, weight: float64(n) / float64(total)}
	}
	return out
}

func rate(v, def float64) float64 {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

// assignProfiles ranks the GPUs by a seeded hash and hands out the profiles
// in proportion, so that a cluster gets its fractions (to the nearest GPU)
// and which GPU gets which still depends on the seed.
func (s *Simulator) assignProfiles() {
	p := s.cfg.Profiles
	fr := [...]float64{max(p.Idle, 0), max(p.Busy, 0), max(p.Bursty, 0), max(p.Flaky, 0), max(p.Missing, 0)}
	total := fr[0] + fr[1] + fr[2] + fr[3] + fr[4]
	if total == 0 {
		fr, total = [...]float64{0, 1, 0, 0, 0}, 1
	}
	order := slices.Clone(s.gpus)
	slices.SortFunc(order, func(a, b *simGPU) int {
		if c := cmp.Compare(a.hash(hProfile, 0), b.hash(hProfile, 0)); c != 0 {
			return c
		}
		return cmp.Compare(a.info.UUID, b.info.UUID)
	})
	n := float64(len(order))
	for r, g := range order {
		pos := (float64(r) + 0.5) / n * total
		cum := 0.0
		g.profile = simMissing
		for i, f := range fr {
			cum += f
			if pos < cum {
				g.profile = simProfile(i)
				break
			}
		}
		g.work = simBusy
		if g.hash(hWork, 0)&1 == 1 {
			g.work = simBursty
		}
	}
}

// GPUs lists the GPUs the simulator shows (all but the missing ones), in
// node and index order.
func (s *Simulator) GPUs() []GPUInfo {
	out := make([]GPUInfo, 0, len(s.gpus))
	for _, g := range s.gpus {
		if g.profile != simMissing {
			out = append(out, g.info)
		}
	}
	return out
}

// Close does nothing; it makes the simulator a Source.
func (s *Simulator) Close() error { return nil }

// Poll returns the samples of the GPUs visible at the clock's instant.
func (s *Simulator) Poll(ctx context.Context) (Poll, error) {
	return s.poll(ctx, -1)
}

// Nodes is how many nodes the simulator has.
func (s *Simulator) Nodes() int { return s.cfg.Nodes }

// NodeSource is the endpoint of one node (numbered from 0), as a cluster
// with a dcgm-exporter per node has: its polls show that node's GPUs only.
// The node's endpoint hangs when the node is one of SimConfig.HungNodes.
// Every node's source shares the simulator's state, so they may be polled
// concurrently, each on its own schedule.
func (s *Simulator) NodeSource(node int) Source {
	return &simNode{s: s, node: node, hung: slices.Contains(s.cfg.HungNodes, node), release: make(chan struct{})}
}

// simNode is the endpoint of one simulated node.
type simNode struct {
	s       *Simulator
	node    int
	hung    bool
	release chan struct{} // closed by Close: a hang that ignores its context ends
	once    sync.Once
}

// NodeName is the host name of a simulated node (numbered from 0).
func (s *Simulator) NodeName(node int) string {
	return fmt.Sprintf("%s-gn%03d", slugify(s.cfg.Cluster), node+1)
}

func (n *simNode) Poll(ctx context.Context) (Poll, error) {
	if n.hung {
		host := n.s.NodeName(n.node)
		if n.s.cfg.HangIgnoresContext {
			<-n.release
			return Poll{}, fmt.Errorf("simulator %s: endpoint closed", host)
		}
		<-ctx.Done()
		return Poll{}, fmt.Errorf("simulator %s: no answer: %w", host, ctx.Err())
	}
	return n.s.poll(ctx, n.node)
}

func (n *simNode) Close() error {
	n.once.Do(func() { close(n.release) })
	return nil
}

// poll returns the samples of the visible GPUs of one node, or of all
// nodes when node is negative.
func (s *Simulator) poll(ctx context.Context, node int) (Poll, error) {
	if err := ctx.Err(); err != nil {
		return Poll{}, err
	}
	t := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Poll{Samples: make([]Sample, 0, len(s.gpus))}
	for i, g := range s.gpus {
		if g.profile == simMissing || node >= 0 && i/s.cfg.GPUsPerNode != node {
			continue
		}
		if g.migs != nil {
			s.pollMIG(&p, g, t)
			continue
		}
		v := s.values(g, t)
		s.advanceEnergy(g, t, v.power)
		if !s.visible(g, t) {
			continue
		}
		p.Samples = append(p.Samples, s.sample(g, t, v, &p.Skipped))
	}
	return p, nil
}

// pollMIG adds a MIG-enabled GPU's samples: the whole GPU's, then its
// instances'.
func (s *Simulator) pollMIG(p *Poll, g *simGPU, t time.Time) {
	sp := s.spec
	whole := simValues{xid: s.xidAt(g, t)}
	vals := make([]simValues, len(g.migs))
	busy := 0.0
	for i, m := range g.migs {
		v := s.values(&m.g, t)
		v.xid = 0
		v.fb = math.Round(v.fb * m.weight)
		vals[i] = v
		whole.gr = max(whole.gr, v.gr) // DCGM's GPU-level figure follows the busiest instance
		whole.sm = max(whole.sm, v.sm)
		whole.fb += v.fb
		if v.util > 0 {
			busy += m.weight * (0.55 + 0.43*v.util/100)
		}
	}
	u := unit(g.hash(hSlot, s.slot(t)*8+4))
	whole.power = round(sp.idleW*(0.95+0.15*u)+(sp.tdpW-sp.idleW)*busy, 3)
	s.advanceEnergy(g, t, whole.power)
	if !s.visible(g, t) {
		return
	}
	w := s.sample(g, t, whole, &p.Skipped)
	w.Util, w.Labels = nil, nil // no utilisation in MIG mode; jobs run on the instances
	p.Samples = append(p.Samples, w)
	for i, m := range g.migs {
		is := s.sample(&m.g, t, vals[i], &p.Skipped)
		is.MIG, is.Profile = m.id, m.profile
		is.Util, is.Power, is.EnergyMJ, is.XIDs = nil, nil, nil, nil
		p.Samples = append(p.Samples, is)
	}
}

// simValues are a GPU's values in one interval.
type simValues struct {
	util, gr, sm, fb, power, xid float64
	job                          bool
}

func (s *Simulator) slot(t time.Time) int64 {
	return floorDiv(t.UnixNano(), int64(s.cfg.Interval))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// values computes a GPU's field values at t: a pure function of the seed,
// the GPU and the interval t falls in.
func (s *Simulator) values(g *simGPU, t time.Time) simValues {
	slot := s.slot(t)
	u := func(k int64) float64 { return unit(g.hash(hSlot, slot*8+k)) }
	sp := s.spec
	kind := g.profile
	if kind == simFlaky {
		kind = g.work
	}
	on := false
	switch kind {
	case simBusy:
		on = true
	case simBursty:
		phase := floorDiv(t.Unix(), 15*60)
		on = unit(g.hash(hPhase, phase)) < 0.55
	}
	var v simValues
	if on {
		lo := 85.0
		if kind == simBursty {
			lo = 40
		}
		v.util = math.Min(100, math.Floor(lo+u(0)*(101-lo)))
		v.gr = round(v.util/100*(0.88+0.1*u(1)), 6)
		v.sm = round(v.gr*(0.85+0.1*u(2)), 6)
		v.fb = math.Round(sp.fbMiB * (0.85 + 0.12*u(3)))
		v.power = round(sp.idleW+(sp.tdpW-sp.idleW)*(0.55+0.43*v.util/100+0.02*u(4)), 3)
		v.job = true
	} else {
		v.power = round(sp.idleW*(0.95+0.15*u(4)), 3)
		if kind == simBursty { // between phases the model stays loaded
			v.fb = math.Round(sp.fbMiB * (0.3 + 0.3*unit(g.hash(hPhase, floorDiv(t.Unix(), 15*60)+1<<40))))
			v.power = round(v.power*1.3, 3)
			v.job = true
		}
	}
	v.xid = s.xidAt(g, t)
	return v
}

// xidEvent reports whether the GPU has an XID event in the hour, when and
// with which code.
func (s *Simulator) xidEvent(g *simGPU, hour int64) (time.Time, float64, bool) {
	if s.cfg.XIDsPerHour <= 0 || unit(g.hash(hXID, hour)) >= s.cfg.XIDsPerHour {
		return time.Time{}, 0, false
	}
	codes := [...]float64{13, 31, 43, 48, 63, 74, 79, 94, 95}
	return time.Unix(hour*3600+int64(g.hash(hXIDAt, hour)%3600), 0), codes[g.hash(hXIDAt, hour+1)%uint64(len(codes))], true
}

// xidLookback is how far back the last XID value reaches: DCGM keeps a
// GPU's last XID until it is restarted; the simulator forgets it after a day.
const xidLookback = 24

// xidAt is the GPU's last-XID value at t, as DCGM_FI_DEV_XID_ERRORS shows
// it: the code of the latest event in the day before t, or 0. An event
// takes effect from the start of the interval it falls in.
func (s *Simulator) xidAt(g *simGPU, t time.Time) float64 {
	hour := floorDiv(t.Unix(), 3600)
	if at, code, ok := s.xidEvent(g, hour); ok && s.slot(at) <= s.slot(t) {
		return code
	}
	if g.xidHour != hour {
		g.xidHour, g.xidPrev = hour, 0
		for h := hour - 1; h >= hour-xidLookback; h-- {
			if _, code, ok := s.xidEvent(g, h); ok {
				g.xidPrev = code
				break
			}
		}
	}
	return g.xidPrev
}

// visible reports whether a GPU shows up at t: a flaky GPU vanishes for
// windows of five intervals, three windows in ten.
func (s *Simulator) visible(g *simGPU, t time.Time) bool {
	if g.profile != simFlaky {
		return true
	}
	window := floorDiv(s.slot(t), 5)
	return unit(g.hash(hGap, window)) >= 0.3
}

// advanceEnergy moves a GPU's energy counter to t: power × elapsed time, or,
// when a reboot fell in between, the energy since the reboot only.
func (s *Simulator) advanceEnergy(g *simGPU, t time.Time, powerW float64) {
	if !g.started {
		// A counter that has been running for up to 30 days at idle power.
		g.energyMJ = math.Floor(unit(g.hash(hEnergy0, 0)) * 30 * 86400 * s.spec.idleW * 1000)
		g.lastT, g.started = t, true
		return
	}
	if !t.After(g.lastT) {
		return
	}
	from := g.lastT
	if rb, ok := s.lastReboot(g, g.lastT, t); ok {
		g.energyMJ, g.offsetMJ = 0, 0
		from = rb
	}
	g.energyMJ += powerW * t.Sub(from).Seconds() * 1000
	if spike, ok := s.glitch(g, g.lastT, t); ok {
		if spike {
			g.offsetMJ += 1e15
		} else {
			g.offsetMJ -= (g.energyMJ + g.offsetMJ) / 2
		}
	}
	g.lastT = t
}

// glitch reports whether the GPU's energy counter misreads in (from, to]:
// a spike or (false) a drop.
func (s *Simulator) glitch(g *simGPU, from, to time.Time) (spike, ok bool) {
	if s.cfg.EnergyGlitchesPerHour <= 0 {
		return false, false
	}
	first, last := floorDiv(from.Unix(), 3600), floorDiv(to.Unix(), 3600)
	first = max(first, last-48)
	for h := last; h >= first; h-- {
		if unit(g.hash(hGlitch, h)) >= s.cfg.EnergyGlitchesPerHour {
			continue
		}
		at := time.Unix(h*3600+int64(g.hash(hGlitchAt, h)%3600), 0)
		if at.After(from) && !at.After(to) {
			return g.hash(hGlitchAt, h+1)&1 == 0, true
		}
	}
	return false, false
}

// lastReboot finds the latest simulated reboot in (from, to], looking back
// at most two days.
func (s *Simulator) lastReboot(g *simGPU, from, to time.Time) (time.Time, bool) {
	if s.cfg.RebootsPerHour <= 0 {
		return time.Time{}, false
	}
	first := floorDiv(from.Unix(), 3600)
	last := floorDiv(to.Unix(), 3600)
	first = max(first, last-48)
	for h := last; h >= first; h-- {
		if unit(g.hash(hReboot, h)) >= s.cfg.RebootsPerHour {
			continue
		}
		at := time.Unix(h*3600+int64(g.hash(hRebootAt, h)%3600), 0)
		if at.After(from) && !at.After(to) {
			return at, true
		}
	}
	return time.Time{}, false
}

// sample builds the Sample of one GPU, blanking a field now and then.
func (s *Simulator) sample(g *simGPU, t time.Time, v simValues, skipped *int) Sample {
	out := Sample{UUID: g.info.UUID, Model: g.info.Model, Node: g.info.Node, Index: g.info.Index, Time: t}
	if v.job {
		day := floorDiv(t.Unix(), 86400)
		out.Labels = map[string]string{
			"namespace": s.ns,
			"pod":       fmt.Sprintf("job-%05x-%d", g.hash(hJob, day)&0xfffff, g.info.Index/4),
		}
	}
	vals := [...]float64{v.util, v.gr, v.sm, v.fb, v.power, math.Floor(max(g.energyMJ+g.offsetMJ, 0)), v.xid}
	ptrs := [...]**float64{&out.Util, &out.GRActive, &out.SMActive, &out.FBUsed, &out.Power, &out.EnergyMJ, &out.XIDs}
	slot := s.slot(t)
	for i := range vals {
		if s.cfg.BlankRate > 0 && unit(g.hash(hBlank, slot*8+int64(i))) < s.cfg.BlankRate {
			*skipped++
			continue
		}
		*ptrs[i] = &vals[i]
	}
	return out
}

func (g *simGPU) hash(domain uint64, n int64) uint64 {
	return mix(g.key ^ mix(domain*0x9e3779b97f4a7c15^uint64(n)))
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// simUUID derives a stable GPU UUID (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).
func simUUID(id string) string {
	sum := sha256.Sum256([]byte("kaiportal-sim/" + id))
	x := hex.EncodeToString(sum[:16])
	return "GPU-" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// slugify makes a cluster name usable in host names: lower case letters,
// digits and dashes.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		s = "sim"
	}
	return s
}
