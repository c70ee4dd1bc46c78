package dcgm

import (
	"cmp"
	"slices"
	"time"
)

// FolderConfig configures a Folder.
type FolderConfig struct {
	// Interval is the poll interval of the source (default 1 minute).
	Interval time.Duration
	// MaxGap is the longest time one sample may stand for (default
	// 2 × Interval). A sample covers the time since its device's previous
	// sample, but never more than MaxGap: the rest of a longer gap is
	// unobserved time and nothing is filled in for it.
	MaxGap time.Duration
}

// Folder folds samples into per-device hourly rollups in memory.
//
// The rules:
//   - A sample covers the time since its device's previous sample, capped at
//     MaxGap and ending at the sample's instant; it is split at hour
//     boundaries, each part counting in its own UTC hour. A device's first
//     sample covers nothing (there is no previous one): it only starts the
//     device.
//   - Covered seconds are observed; active when utilisation > 0, or, where
//     the sample has no utilisation (MIG instances), GR-engine activity > 0.
//     UtilSum adds util × seconds, or GR active × 100 × seconds without util;
//     a sample with neither is observed but adds nothing to UtilSum.
//   - Energy comes from the counter: current − previous reading, or the
//     current reading alone when the counter went backwards (a reboot reset
//     it, so it holds the energy since the reset). The delta is spread over
//     the time since the previous sample in proportion to time, and only
//     the covered share counts: after a gap longer than MaxGap the energy of
//     the unobserved part is left out, like the rest of the gap. A delta is
//     taken only between consecutive samples that both carry the counter.
//   - The sample itself (its count, framebuffer, XID) counts in the hour its
//     instant falls in.
//   - A sample not newer than its device's previous one is ignored.
//
// Flush returns complete hours and forgets them; after Flush(before) nothing
// is added to an hour before before's hour any more, so what Flush returned
// is final. Every rollup returned, by Flush or Snapshot, is the complete
// state of its device-hour so far: store it by replacing the row.
//
// A Folder is not safe for concurrent use.
type Folder struct {
	maxGap    int64 // ns
	devices   map[string]*folderDev
	watermark int64 // ns; hours before it have been flushed
	ignored   int
}

type folderDev struct {
	last      int64 // ns of the last sample; valid when seen
	seen      bool
	energy    float64 // last counter reading, mJ
	hasEnergy bool    // the last sample carried the counter
	hours     []openHour
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
	return &Folder{maxGap: int64(cfg.MaxGap), devices: map[string]*folderDev{}, watermark: minInt64}
}

const minInt64 = -1 << 63

// Add folds one sample in. It reports false when the sample was ignored: not
// newer than the device's previous sample, or in an hour already flushed.
func (f *Folder) Add(s Sample) bool {
	key := s.Key()
	t := s.Time.UnixNano()
	d := f.devices[key]
	if d == nil {
		if t < f.watermark {
			f.ignored++
			return false
		}
		d = &folderDev{}
		f.devices[key] = d
	}
	if (d.seen && t <= d.last) || t < f.watermark {
		f.ignored++
		return false
	}

	if d.seen {
		dt := t - d.last
		start := t - min(dt, f.maxGap)
		start = max(start, f.watermark)
		if start < t {
			var energyJ float64
			if d.hasEnergy && s.EnergyMJ != nil {
				delta := *s.EnergyMJ - d.energy
				if delta < 0 {
					delta = *s.EnergyMJ // reset: energy since the reset
				}
				energyJ = delta / 1000 * float64(t-start) / float64(dt)
			}
			f.cover(d, key, &s, start, t, energyJ)
		}
	}

	r := d.hour(key, &s, floorDiv(t, hourNs)*3600)
	r.Samples++
	if s.FBUsed != nil && *s.FBUsed > r.MaxFBMiB {
		r.MaxFBMiB = *s.FBUsed
	}
	if s.XIDs != nil && *s.XIDs != 0 {
		r.XIDCount++
	}

	d.last, d.seen = t, true
	if s.EnergyMJ != nil {
		d.energy, d.hasEnergy = *s.EnergyMJ, true
	} else {
		d.hasEnergy = false
	}
	return true
}

// cover adds the span [start, end) (ns) of a sample, split at hour
// boundaries, with energyJ spread over it in proportion to time.
func (f *Folder) cover(d *folderDev, key string, s *Sample, start, end int64, energyJ float64) {
	util, hasUtil, active := 0.0, false, false
	switch {
	case s.Util != nil:
		util, hasUtil, active = *s.Util, true, *s.Util > 0
	case s.GRActive != nil:
		util, hasUtil, active = *s.GRActive*100, true, *s.GRActive > 0
	}
	span := float64(end - start)
	for a := start; a < end; {
		h := floorDiv(a, hourNs) * hourNs
		b := min(h+hourNs, end)
		secs := float64(b-a) / 1e9
		r := d.hour(key, s, h/1e9)
		r.ObservedSeconds += secs
		if active {
			r.ActiveSeconds += secs
		}
		if hasUtil {
			r.UtilSum += util * secs
		}
		if s.GRActive != nil {
			r.GRActiveSum += *s.GRActive * secs
		}
		if s.SMActive != nil {
			r.SMActiveSum += *s.SMActive * secs
		}
		if energyJ != 0 {
			r.EnergyJ += energyJ * float64(b-a) / span
		}
		a = b
	}
}

// hour returns the device's open rollup for the hour starting at start
// (unix seconds), creating it, and refreshes its node and model.
func (d *folderDev) hour(key string, s *Sample, start int64) *Rollup {
	i := 0
	for ; i < len(d.hours); i++ {
		if d.hours[i].start == start {
			r := &d.hours[i].r
			r.Node, r.Model = s.Node, s.Model
			return r
		}
		if d.hours[i].start > start {
			break
		}
	}
	d.hours = slices.Insert(d.hours, i, openHour{start: start, r: Rollup{
		Key: key, UUID: s.UUID, Hour: time.Unix(start, 0).UTC(), Node: s.Node, Model: s.Model,
	}})
	return &d.hours[i].r
}

// Flush returns the rollups of the hours that ended at or before before and
// forgets them, ordered by hour and key. Call it with before at least MaxGap
// behind the newest sample times, so that late samples still land.
func (f *Folder) Flush(before time.Time) []Rollup {
	cut := floorDiv(before.UnixNano(), hourNs) * hourNs // hours ending ≤ before start before cut
	f.watermark = max(f.watermark, cut)
	var out []Rollup
	for _, d := range f.devices {
		n := 0
		for n < len(d.hours) && d.hours[n].start*1e9 < cut {
			out = append(out, d.hours[n].r)
			n++
		}
		if n > 0 {
			d.hours = slices.Delete(d.hours, 0, n)
		}
	}
	sortRollups(out)
	return out
}

// Snapshot returns copies of the open (not yet flushed) rollups, ordered by
// hour and key, so that they can be stored while the hour is still running.
func (f *Folder) Snapshot() []Rollup {
	var out []Rollup
	for _, d := range f.devices {
		for _, h := range d.hours {
			out = append(out, h.r)
		}
	}
	sortRollups(out)
	return out
}

// Restore merges a stored rollup of an hour that is still open (read back
// after a restart) into the folder, so that later snapshots of that hour
// include what was stored before. It reports false for an hour already
// flushed. The device's next sample still covers nothing: the time of the
// restart is unobserved.
func (f *Folder) Restore(r Rollup) bool {
	start := r.Hour.Unix()
	start -= ((start % 3600) + 3600) % 3600
	if start*1e9 < f.watermark {
		return false
	}
	d := f.devices[r.Key]
	if d == nil {
		d = &folderDev{}
		f.devices[r.Key] = d
	}
	o := d.hour(r.Key, &Sample{UUID: r.UUID, Node: r.Node, Model: r.Model}, start)
	o.ObservedSeconds += r.ObservedSeconds
	o.ActiveSeconds += r.ActiveSeconds
	o.UtilSum += r.UtilSum
	o.GRActiveSum += r.GRActiveSum
	o.SMActiveSum += r.SMActiveSum
	o.EnergyJ += r.EnergyJ
	o.MaxFBMiB = max(o.MaxFBMiB, r.MaxFBMiB)
	o.XIDCount += r.XIDCount
	o.Samples += r.Samples
	return true
}

// Devices is the number of devices the folder has seen.
func (f *Folder) Devices() int { return len(f.devices) }

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
