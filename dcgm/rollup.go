package dcgm

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// FolderConfig configures a Folder.
type FolderConfig struct {
	// Interval is how far apart a device's samples are: the poll interval
	// of the source (default 1 minute).
	Interval time.Duration
	// MaxGap is the longest time one sample may stand for (default
	// 2 × Interval). A sample covers the time since its device's previous
	// sample, but never more than MaxGap: the rest of a longer gap is
	// unobserved time and nothing is filled in for it.
	MaxGap time.Duration
	// EnergyGrace is how much older than its sample's instant an energy
	// counter reading may be (default 2 × Interval, at least 30 s:
	// dcgm-exporter refreshes its values every 30 s by default, whatever the
	// scrape interval). See the energy rules of Folder.
	EnergyGrace time.Duration
	// BusyThresholdPct is the utilisation, in percent, at or above which
	// observed time counts as busy; below it the time is idle. Zero takes
	// DefaultBusyThresholdPct; a negative value counts any activity above
	// 0 % as busy. Every rollup records the threshold it was folded at.
	BusyThresholdPct float64
}

// DefaultBusyThresholdPct is the busy threshold of a Folder whose config
// names none: the portal sets it from its settings at start-up, before any
// collector runs.
var DefaultBusyThresholdPct = 5.0

// isBusy tells whether an activity of pct percent is busy at threshold th.
func isBusy(pct, th float64) bool { return pct > 0 && pct >= th }

// Folder folds samples into hourly rollups in memory: one per physical GPU
// and hour, and one per MIG instance and hour as a breakdown of its GPU's.
//
// Time is counted per physical GPU. The samples of one GPU that a poll
// brings at one instant (within half an Interval of each other: the whole
// GPU's and each of its MIG instances') form one step of that GPU. The
// rules:
//   - A step covers the time since the GPU's previous step, capped at MaxGap
//     and ending at the step's instant; it is split at hour boundaries, each
//     part counting in its own UTC hour. A GPU's first step covers nothing
//     (there is no previous one): it only starts the GPU. So a GPU's
//     observed time is the time in which any of its series was seen, and
//     never more than the clock time.
//   - What the step says of the GPU's activity comes, in this order of
//     preference, from the whole GPU's utilisation (DCGM_FI_DEV_GPU_UTIL);
//     for a MIG-enabled GPU, which has none, from its instances' activity
//     (each instance's utilisation, or its GR-engine activity), each weighted
//     by its share of the GPU (its profile's compute slices ÷ the GPU's: 7,
//     or 4 on an A30; equal shares when a profile does not say); failing
//     both, from the whole GPU's GR-engine activity. Covered seconds are
//     observed; busy (ActiveSeconds) when that activity is at or above the
//     busy threshold (BusyThresholdPct; never at 0 %) — for a MIG GPU, when
//     any instance was; the rest of the observed time is idle; UtilSum adds the activity in
//     percent × seconds. GR- and SM-active sums follow the same rule, the
//     framebuffer is the whole GPU's or else the sum of its instances'.
//     The GPU-level GR figure of a MIG GPU is not a share of the whole GPU
//     (NVIDIA's A100 sample shows it equal to its one busy 1g.5gb
//     instance's), so instance figures win when there are any.
//   - Each MIG instance also has its own rollup (observed and busy from its
//     own samples, utilisation from its utilisation or GR activity): a
//     breakdown of the GPU's time, never counted on top of it. Power, energy
//     and XIDs belong to the physical GPU; on an instance's sample they are
//     ignored (dcgm-exporter repeats them on every instance's series).
//   - Energy comes from the GPU's counter: current − previous reading. The
//     delta is spread over the time since the previous step in proportion
//     to time, and only the covered share counts (after a gap longer than
//     MaxGap the energy of the unobserved part is left out, like the rest of
//     the gap). A delta is taken only between consecutive steps that both
//     carry the counter. A reading is plausible when it is what the GPU's
//     maximum power (MaxPowerW of its model) allows over the time since the
//     previous step plus EnergyGrace: a rise up to that much is taken as it
//     is; a drop is a counter reset (a reboot) when the new reading itself
//     is within that much, and the new reading is then the energy since the
//     reset. Any other rise or drop is an anomaly: counted in the hour's
//     EnergyAnomalies, and the interval's energy is estimated from the
//     step's power reading (clamped to the maximum; nothing without one).
//     No interval is credited more than maximum power × its covered time:
//     a plausible excess (a counter refreshed less often than it is polled)
//     waits for later intervals, up to EnergyGrace's worth.
//   - XID errors are events: the GPU's last-XID value changing to a non-zero
//     code counts one, in the hour of the step that shows it. The value a
//     GPU shows when the folder first sees it only starts the count (an
//     error from before is in no hour here), unless a stored hour restored
//     by Restore says what it was. A repeat of the same code cannot be told
//     from the value staying, and counts once.
//   - A step's sample count, framebuffer and XID count in the hour its
//     instant falls in.
//   - A sample not newer than its device's previous one is ignored.
//
// Flush returns complete hours and forgets them; after Flush(before) nothing
// is added to an hour before before's hour any more, so what Flush returned
// is final. Every rollup returned, by Flush or Snapshot, is the complete
// state of its device-hour so far: store it by replacing the row. Flush and
// Snapshot close the GPUs' open steps: call them between polls.
//
// A Folder is not safe for concurrent use.
type Folder struct {
	maxGap    int64 // ns
	merge     int64 // ns: samples of one GPU this close form one step
	grace     int64 // ns
	gpus      map[string]*folderGPU
	insts     map[string]*folderDev // MIG instances by key
	watermark int64                 // ns; hours before it have been flushed
	ignored   int
	busyAt    float64 // the busy threshold, percent
}

// folderDev is a device's hours and its last sample.
type folderDev struct {
	last  int64 // ns of the last sample (a GPU: of its last step); valid when seen
	seen  bool
	hours []openHour
}

// folderGPU is a physical GPU.
type folderGPU struct {
	folderDev
	uuid        string
	node, model string
	maxW        float64 // MaxPowerW(model)
	pending     bool    // step holds the step being gathered
	step        gpuStep

	energy    float64 // last counter reading, mJ
	hasEnergy bool    // the last step carried the counter
	backlog   float64 // J of plausible energy not yet credited

	xid     float64 // the last XID value seen
	hasXID  bool
	xidHour int64 // the restored hour xid came from (unix s)
}

// gpuStep is the samples of one GPU at one instant.
type gpuStep struct {
	t        int64
	hasWhole bool
	whole    Sample
	insts    []Sample
}

type openHour struct {
	start int64 // unix seconds
	r     Rollup
}

const hourNs = int64(time.Hour)

// NewFolder returns an empty Folder.
func NewFolder(cfg FolderConfig) *Folder {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.MaxGap <= 0 {
		cfg.MaxGap = 2 * cfg.Interval
	}
	if cfg.EnergyGrace <= 0 {
		cfg.EnergyGrace = max(2*cfg.Interval, 30*time.Second)
	}
	switch {
	case cfg.BusyThresholdPct == 0:
		cfg.BusyThresholdPct = DefaultBusyThresholdPct
	case cfg.BusyThresholdPct < 0:
		cfg.BusyThresholdPct = 0
	}
	return &Folder{maxGap: int64(cfg.MaxGap), merge: int64(cfg.Interval / 2), grace: int64(cfg.EnergyGrace),
		gpus: map[string]*folderGPU{}, insts: map[string]*folderDev{}, watermark: minInt64,
		busyAt: max(cfg.BusyThresholdPct, 0)}
}

const minInt64 = -1 << 63

// Add folds one sample in. It reports false when the sample was ignored: not
// newer than the device's previous sample, or in an hour already flushed.
func (f *Folder) Add(s Sample) bool {
	if s.MIG != "" {
		s.Power, s.EnergyMJ, s.XIDs = nil, nil, nil // the physical GPU's
		if !f.addInstance(&s) {
			f.ignored++
			return false
		}
		f.step(s) // an instance's sample also tells of its GPU
		return true
	}
	if !f.step(s) {
		f.ignored++
		return false
	}
	return true
}

// addInstance folds a MIG instance's sample into its own rollups.
func (f *Folder) addInstance(s *Sample) bool {
	key := s.Key()
	t := s.Time.UnixNano()
	if t < f.watermark {
		return false
	}
	d := f.insts[key]
	if d == nil {
		d = &folderDev{}
		f.insts[key] = d
	}
	if d.seen && t <= d.last {
		return false
	}
	info := rollupInfo{key: key, uuid: s.UUID, mig: s.MIG, profile: s.Profile, node: s.Node, model: s.Model}
	if d.seen {
		if start := f.spanStart(d, t); start < t {
			f.cover(d, info, instanceActivity(s, f.busyAt), start, t, 0)
		}
	}
	r := d.hour(info, floorDiv(t, hourNs)*3600)
	r.Samples++
	r.BusyThresholdPct = f.busyAt // also when the hour has no span yet
	if s.FBUsed != nil && *s.FBUsed > r.MaxFBMiB {
		r.MaxFBMiB = *s.FBUsed
	}
	d.last, d.seen = t, true
	return true
}

// step adds a sample to its GPU's open step, or closes that step and opens
// the next. It reports false when the sample is too old to tell anything.
func (f *Folder) step(s Sample) bool {
	t := s.Time.UnixNano()
	if t < f.watermark {
		return false
	}
	g := f.gpus[s.UUID]
	if g == nil {
		g = &folderGPU{uuid: s.UUID}
		f.gpus[s.UUID] = g
	}
	if p := &g.step; g.pending {
		if !p.has(&s) && (!g.seen || t > g.last) && absInt64(t-p.t) <= f.merge {
			p.add(&s)
			p.t = max(p.t, t)
			return true
		}
		if t <= p.t {
			return false
		}
		f.finish(g)
	}
	if g.seen && t <= g.last {
		return false
	}
	g.step.t, g.step.hasWhole, g.step.insts = t, false, g.step.insts[:0]
	g.step.add(&s)
	g.pending = true
	return true
}

func (p *gpuStep) has(s *Sample) bool {
	if s.MIG == "" {
		return p.hasWhole
	}
	return slices.ContainsFunc(p.insts, func(i Sample) bool { return i.MIG == s.MIG })
}

func (p *gpuStep) add(s *Sample) {
	if s.MIG == "" {
		p.whole, p.hasWhole = *s, true
		return
	}
	p.insts = append(p.insts, *s)
}

// activity is what a span of a device's time says of its work.
type activity struct {
	work                []workShare // the workloads the span is attributed to
	util                float64     // percent
	hasUtil, active     bool
	gr, sm, fb          float64
	hasGR, hasSM, hasFB bool
}

// workShare is a workload's share of a GPU's span and whether it was busy.
type workShare struct {
	id     string
	weight float64
	busy   bool
}

// instanceActivity is a MIG instance's activity from its own sample.
func instanceActivity(s *Sample, th float64) activity {
	var a activity
	switch {
	case s.Util != nil:
		a.util, a.hasUtil, a.active = *s.Util, true, isBusy(*s.Util, th)
	case s.GRActive != nil:
		a.util, a.hasUtil, a.active = *s.GRActive*100, true, isBusy(*s.GRActive*100, th)
	}
	if s.GRActive != nil {
		a.gr, a.hasGR = *s.GRActive, true
	}
	if s.SMActive != nil {
		a.sm, a.hasSM = *s.SMActive, true
	}
	return a
}

// activity is the physical GPU's activity in the step (see Folder's rules).
func (p *gpuStep) activity(model string, th float64) activity {
	var a activity
	var w *Sample
	if p.hasWhole {
		w = &p.whole
	}
	var iu, igr, ism, ifb float64
	var hasIU, hasIGR, hasISM, hasIFB, instActive bool
	for i := range p.insts {
		s, wt := &p.insts[i], instanceWeight(p.insts, i, model)
		switch {
		case s.Util != nil:
			iu += *s.Util / 100 * wt
			hasIU, instActive = true, instActive || isBusy(*s.Util, th)
		case s.GRActive != nil:
			iu += *s.GRActive * wt
			hasIU, instActive = true, instActive || isBusy(*s.GRActive*100, th)
		}
		if s.GRActive != nil {
			igr += *s.GRActive * wt
			hasIGR = true
		}
		if s.SMActive != nil {
			ism += *s.SMActive * wt
			hasISM = true
		}
		if s.FBUsed != nil {
			ifb += *s.FBUsed
			hasIFB = true
		}
	}
	// Workloads: the whole GPU's labels, else each instance's, by its share.
	if w != nil {
		if id := WorkloadOf(w.Labels); id != "" {
			a.work = []workShare{{id: id, weight: 1}}
		}
	}
	if a.work == nil {
		for i := range p.insts {
			s := &p.insts[i]
			id := WorkloadOf(s.Labels)
			if id == "" {
				continue
			}
			busy := s.Util != nil && isBusy(*s.Util, th) || s.Util == nil && s.GRActive != nil && isBusy(*s.GRActive*100, th)
			a.work = append(a.work, workShare{id: id, weight: instanceWeight(p.insts, i, model), busy: busy})
		}
	}
	switch {
	case w != nil && w.Util != nil:
		a.util, a.hasUtil, a.active = *w.Util, true, isBusy(*w.Util, th)
	case hasIU:
		a.util, a.hasUtil, a.active = min(iu*100, 100), true, instActive
	case w != nil && w.GRActive != nil:
		a.util, a.hasUtil, a.active = *w.GRActive*100, true, isBusy(*w.GRActive*100, th)
	}
	if len(a.work) == 1 && a.work[0].weight == 1 {
		a.work[0].busy = a.active
	}
	switch {
	case hasIGR:
		a.gr, a.hasGR = min(igr, 1), true
	case w != nil && w.GRActive != nil:
		a.gr, a.hasGR = *w.GRActive, true
	}
	switch {
	case hasISM:
		a.sm, a.hasSM = min(ism, 1), true
	case w != nil && w.SMActive != nil:
		a.sm, a.hasSM = *w.SMActive, true
	}
	switch {
	case w != nil && w.FBUsed != nil:
		a.fb, a.hasFB = *w.FBUsed, true
	case hasIFB:
		a.fb, a.hasFB = ifb, true
	}
	return a
}

// instanceWeight is instance i's share of its GPU: its profile's compute
// slices ÷ the GPU's, or an equal share of the instances seen when a
// profile does not say.
func instanceWeight(insts []Sample, i int, model string) float64 {
	sum := 0
	for j := range insts {
		n := ProfileSlices(insts[j].Profile)
		if n == 0 {
			return 1 / float64(len(insts))
		}
		sum += n
	}
	return float64(ProfileSlices(insts[i].Profile)) / float64(max(migSlices(model), sum))
}

// finish closes a GPU's open step: it covers the time since the GPU's
// previous step and counts its sample, energy and XID.
func (f *Folder) finish(g *folderGPU) {
	p := &g.step
	g.pending = false
	lead := &p.whole
	if !p.hasWhole {
		lead = &p.insts[0]
	}
	if lead.Node != "" || g.node == "" {
		g.node = lead.Node
	}
	model := lead.Model
	if model == "" && len(p.insts) > 0 {
		model = p.insts[0].Model
	}
	if model != "" && model != g.model || g.maxW == 0 {
		g.model, g.maxW = cmp.Or(model, g.model), MaxPowerW(cmp.Or(model, g.model))
	}
	info := rollupInfo{key: g.uuid, uuid: g.uuid, node: g.node, model: g.model}
	t := p.t
	act := p.activity(g.model, f.busyAt)
	var counter, power *float64
	if p.hasWhole {
		counter, power = p.whole.EnergyMJ, p.whole.Power
	}
	anomaly := false
	if g.seen {
		dt := t - g.last
		start := f.spanStart(&g.folderDev, t)
		var energyJ float64
		if g.hasEnergy && counter != nil {
			energyJ, anomaly = f.energy(g, *counter, power, dt, max(t-start, 0))
		} else {
			g.backlog = 0
		}
		if start < t {
			f.cover(&g.folderDev, info, act, start, t, energyJ)
		}
	}
	r := g.hour(info, floorDiv(t, hourNs)*3600)
	r.Samples++
	// The threshold the hour is folded at, also while it has no span
	// yet: a first write of a sample alone stores it, and the next
	// write's hour then moves the day's totals by difference rather than
	// having them summed again for a changed threshold.
	r.BusyThresholdPct = f.busyAt
	if act.hasFB && act.fb > r.MaxFBMiB {
		r.MaxFBMiB = act.fb
	}
	if anomaly {
		r.EnergyAnomalies++
	}
	if p.hasWhole && p.whole.XIDs != nil {
		x := *p.whole.XIDs
		if x != 0 && g.hasXID && x != g.xid {
			r.XIDCount++
		}
		g.xid, g.hasXID = x, true
	}
	if g.hasXID {
		r.LastXID, r.XIDSeen = g.xid, true
	}
	g.last, g.seen = t, true
	if counter != nil {
		g.energy, g.hasEnergy = *counter, true
	} else {
		g.hasEnergy = false
	}
}

// energy is the energy (J) to credit for a step whose counter reads
// counterMJ, dt ns after the previous step, of which covered ns are
// observed; and whether the reading is an anomaly (see Folder's rules).
func (f *Folder) energy(g *folderGPU, counterMJ float64, power *float64, dt, covered int64) (float64, bool) {
	maxW := g.maxW
	dtS, covS, graceS := float64(dt)/1e9, float64(covered)/1e9, float64(f.grace)/1e9
	limit := maxW * (dtS + graceS)
	delta := (counterMJ - g.energy) / 1000
	var e float64
	anomaly := false
	switch {
	case delta >= 0 && delta <= limit:
		e = delta * covS / dtS
	case delta < 0 && counterMJ/1000 <= limit:
		e = counterMJ / 1000 * covS / dtS // a reset: the reading is the energy since
	default:
		anomaly = true
		if power != nil {
			e = min(max(*power, 0), maxW) * covS
		}
	}
	avail := e + g.backlog
	credited := min(avail, maxW*covS)
	g.backlog = min(avail-credited, maxW*graceS)
	return credited, anomaly
}

// spanStart is where a sample at t starting from the device's previous one
// begins to count: at most MaxGap back, never in a flushed hour.
func (f *Folder) spanStart(d *folderDev, t int64) int64 {
	dt := t - d.last
	return max(t-min(dt, f.maxGap), f.watermark)
}

// rollupInfo names the device of a rollup.
type rollupInfo struct {
	key, uuid, mig, profile, node, model string
}

// cover adds the span [start, end) (ns), split at hour boundaries, with
// energyJ spread over it in proportion to time.
func (f *Folder) cover(d *folderDev, info rollupInfo, a activity, start, end int64, energyJ float64) {
	span := float64(end - start)
	for t := start; t < end; {
		h := floorDiv(t, hourNs) * hourNs
		b := min(h+hourNs, end)
		secs := float64(b-t) / 1e9
		r := d.hour(info, h/1e9)
		r.ObservedSeconds += secs
		r.BusyThresholdPct = f.busyAt
		if a.active {
			r.ActiveSeconds += secs
		}
		for _, w := range a.work {
			if r.Workloads == nil {
				r.Workloads = map[string]WorkloadTime{}
			}
			wt := r.Workloads[w.id]
			wt.ObservedSeconds += secs * w.weight
			if w.busy {
				wt.ActiveSeconds += secs * w.weight
			}
			r.Workloads[w.id] = wt
		}
		if a.hasUtil {
			r.UtilSum += a.util * secs
		}
		if a.hasGR {
			r.GRActiveSum += a.gr * secs
		}
		if a.hasSM {
			r.SMActiveSum += a.sm * secs
		}
		if energyJ != 0 {
			r.EnergyJ += energyJ * float64(b-t) / span
		}
		t = b
	}
}

// hour returns the device's open rollup for the hour starting at start
// (unix seconds), creating it, and refreshes its node, model and profile.
func (d *folderDev) hour(info rollupInfo, start int64) *Rollup {
	i := 0
	for ; i < len(d.hours); i++ {
		if d.hours[i].start == start {
			r := &d.hours[i].r
			if info.node != "" {
				r.Node = info.node
			}
			if info.model != "" {
				r.Model = info.model
			}
			if info.profile != "" {
				r.Profile = info.profile
			}
			return r
		}
		if d.hours[i].start > start {
			break
		}
	}
	d.hours = slices.Insert(d.hours, i, openHour{start: start, r: Rollup{
		Key: info.key, UUID: info.uuid, MIG: info.mig, Profile: info.profile, Hour: time.Unix(start, 0).UTC(),
		Node: info.node, Model: info.model,
	}})
	return &d.hours[i].r
}

// settle closes every GPU's open step.
func (f *Folder) settle() {
	for _, g := range f.gpus {
		if g.pending {
			f.finish(g)
		}
	}
}

// devices calls fn for every device: the GPUs, then the MIG instances.
func (f *Folder) devices(fn func(d *folderDev)) {
	for _, g := range f.gpus {
		fn(&g.folderDev)
	}
	for _, d := range f.insts {
		fn(d)
	}
}

// Flush returns the rollups of the hours that ended at or before before and
// forgets them, ordered by hour and key. Call it with before at least MaxGap
// behind the newest sample times, so that late samples still land.
func (f *Folder) Flush(before time.Time) []Rollup {
	f.settle()
	cut := floorDiv(before.UnixNano(), hourNs) * hourNs // hours ending ≤ before start before cut
	f.watermark = max(f.watermark, cut)
	var out []Rollup
	f.devices(func(d *folderDev) {
		n := 0
		for n < len(d.hours) && d.hours[n].start*1e9 < cut {
			out = append(out, d.hours[n].r)
			n++
		}
		if n > 0 {
			d.hours = slices.Delete(d.hours, 0, n)
		}
	})
	sortRollups(out)
	return out
}

// Snapshot returns copies of the open (not yet flushed) rollups, ordered by
// hour and key, so that they can be stored while the hour is still running.
func (f *Folder) Snapshot() []Rollup {
	f.settle()
	var out []Rollup
	f.devices(func(d *folderDev) {
		for _, h := range d.hours {
			r := h.r
			r.Workloads = maps.Clone(r.Workloads)
			out = append(out, r)
		}
	})
	sortRollups(out)
	return out
}

// Restore merges a stored rollup of an hour that is still open (read back
// after a restart) into the folder, so that later snapshots of that hour
// include what was stored before. It reports false for an hour already
// flushed. The device's next sample still covers nothing: the time of the
// restart is unobserved. A GPU's last XID value is taken from its latest
// restored hour, so that the XID count goes on from it.
func (f *Folder) Restore(r Rollup) bool {
	start := r.Hour.Unix()
	start -= ((start % 3600) + 3600) % 3600
	if start*1e9 < f.watermark {
		return false
	}
	var d *folderDev
	if r.Key != r.UUID {
		if d = f.insts[r.Key]; d == nil {
			d = &folderDev{}
			f.insts[r.Key] = d
		}
	} else {
		g := f.gpus[r.UUID]
		if g == nil {
			g = &folderGPU{uuid: r.UUID, node: r.Node, model: r.Model}
			f.gpus[r.UUID] = g
		}
		if r.XIDSeen && (!g.hasXID || start >= g.xidHour) {
			g.xid, g.hasXID, g.xidHour = r.LastXID, true, start
		}
		d = &g.folderDev
	}
	o := d.hour(rollupInfo{key: r.Key, uuid: r.UUID, mig: r.MIG, profile: r.Profile, node: r.Node, model: r.Model}, start)
	o.ObservedSeconds += r.ObservedSeconds
	o.ActiveSeconds += r.ActiveSeconds
	o.UtilSum += r.UtilSum
	o.GRActiveSum += r.GRActiveSum
	o.SMActiveSum += r.SMActiveSum
	o.EnergyJ += r.EnergyJ
	o.MaxFBMiB = max(o.MaxFBMiB, r.MaxFBMiB)
	o.XIDCount += r.XIDCount
	o.EnergyAnomalies += r.EnergyAnomalies
	if r.XIDSeen {
		o.LastXID, o.XIDSeen = r.LastXID, true
	}
	o.Samples += r.Samples
	o.BusyThresholdPct = max(o.BusyThresholdPct, r.BusyThresholdPct)
	for id, w := range r.Workloads {
		if o.Workloads == nil {
			o.Workloads = map[string]WorkloadTime{}
		}
		ow := o.Workloads[id]
		ow.ObservedSeconds += w.ObservedSeconds
		ow.ActiveSeconds += w.ActiveSeconds
		o.Workloads[id] = ow
	}
	return true
}

// Devices is the number of devices the folder has seen: GPUs and MIG instances.
func (f *Folder) Devices() int { return len(f.gpus) + len(f.insts) }

// Ignored is the number of samples ignored as out of order or too late.
func (f *Folder) Ignored() int { return f.ignored }

func sortRollups(rs []Rollup) {
	slices.SortFunc(rs, func(a, b Rollup) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
