package models

import (
	"slices"
	"time"

	"gorm.io/gorm"
)

// Joins and leaves are to the minute; telemetry is kept by the hour. The
// windowed queries (windowedRows) read a GPU's hours whole: from the first
// hour starting at or after it joined, to the hour it left in, included. A
// GPU that joined or left off the hour belonged to that hour only in part,
// and its rollup of that hour is prorated: it counts the share of the hour
// the GPU belonged (telemetry taken as spread evenly over the hour). Event
// counts (XID events, energy anomalies, samples) are not divisible: they
// count whole in an hour the GPU belonged to for any part of.

// partialHour is an hour a GPU belonged to an allocation for only part of:
// Share is the part of the hour it belonged, Counted what the windowed
// queries counted of it (0 or 1).
type partialHour struct {
	UUID           string
	Hour           time.Time
	Share, Counted float64
}

// delta is what a row of the hour needs added, as a multiple of its measures.
func (p partialHour) delta() float64 { return p.Share - p.Counted }

// gained reports whether the hour's events count although the windowed
// queries left the hour out.
func (p partialHour) gained() bool { return p.Counted == 0 && p.Share > 0 }

// partialHours lists the members' hours in [from, to) that they belonged to
// only in part.
func partialHours(members []AllocationGPU, from, to time.Time) []partialHour {
	var out []partialHour
	for _, g := range members {
		var hours []time.Time
		for _, t := range []*time.Time{g.JoinedAt, g.LeftAt} {
			if t == nil {
				continue
			}
			h := t.UTC().Truncate(time.Hour)
			if !h.Equal(t.UTC()) && !slices.ContainsFunc(hours, h.Equal) {
				hours = append(hours, h)
			}
		}
		for _, h := range hours {
			if h.Before(from) || !h.Before(to) {
				continue
			}
			s, e := g.Window(h, h.Add(time.Hour))
			counted := 0.0
			if (g.JoinedAt == nil || !h.Before(*g.JoinedAt)) && (g.LeftAt == nil || h.Before(*g.LeftAt)) {
				counted = 1
			}
			out = append(out, partialHour{UUID: g.GPUUUID, Hour: h, Share: e.Sub(s).Seconds() / 3600, Counted: counted})
		}
	}
	return out
}

// partialRow is a stored hourly rollup (of the GPU or of one of its MIG
// instances) of a partial hour, with the hour.
type partialRow struct {
	GPURollup
	Part partialHour
}

// partialRows reads the hourly rollups of one allocation's partial hours.
func partialRows(db *gorm.DB, ph []partialHour) ([]partialRow, error) {
	rows, err := partialRowsOf(db, [][]partialHour{ph})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// partialChunk is how many partial hours one statement of partialRowsOf
// reads (each is a term of an OR, and SQLite limits an expression's depth).
const partialChunk = 200

// partialRowsOf reads the hourly rollups of the partial hours of several
// allocations (phs[i] is allocation i's), in one statement for up to
// partialChunk hours, and returns each allocation's.
func partialRowsOf(db *gorm.DB, phs [][]partialHour) ([][]partialRow, error) {
	out := make([][]partialRow, len(phs))
	var all []partialHour
	for _, ph := range phs {
		all = append(all, ph...)
	}
	var rows []GPURollup
	for chunk := range slices.Chunk(all, partialChunk) {
		cond := db.Where("1 = 0")
		for _, p := range chunk {
			cond = cond.Or("uuid = ? AND hour = ?", p.UUID, p.Hour)
		}
		var rs []GPURollup
		if err := db.Where(cond).Find(&rs).Error; err != nil {
			return nil, err
		}
		rows = append(rows, rs...)
	}
	for i, ph := range phs {
		for _, r := range rows {
			j := slices.IndexFunc(ph, func(p partialHour) bool { return p.UUID == r.UUID && p.Hour.Equal(r.Hour.UTC()) })
			if j >= 0 && ph[j].delta() != 0 {
				out[i] = append(out[i], partialRow{GPURollup: r, Part: ph[j]})
			}
		}
	}
	return out, nil
}

// prorate corrects an allocation's sums for the partial hours (physical
// GPUs' rows; MIG instances counted when first seen there).
func (u *Usage) prorate(rows []partialRow) {
	for _, r := range rows {
		if r.DeviceKey != r.UUID {
			continue
		}
		d := r.Part.delta()
		u.ObservedSeconds += d * r.ObservedS
		u.ActiveSeconds += d * r.ActiveS
		u.UtilSum += d * r.UtilSum
		u.GRSum += d * r.GRSum
		u.SMSum += d * r.SMSum
		u.EnergyJ += d * r.EnergyJ
		if r.Part.gained() {
			u.XIDCount += r.XIDCount
			u.EnergyAnomalies += r.EnergyAnomalies
			u.Samples += r.Samples
			u.MaxFBMiB = max(u.MaxFBMiB, r.MaxFBMiB)
		}
	}
}

// prorate corrects a device's usage for one partial-hour row of it.
func (d *DeviceUsage) prorate(r partialRow) {
	f := r.Part.delta()
	d.ObservedSeconds += f * r.ObservedS
	d.ActiveSeconds += f * r.ActiveS
	d.UtilSum += f * r.UtilSum
	d.EnergyJ += f * r.EnergyJ
	if r.Part.gained() {
		d.XIDCount += r.XIDCount
		d.EnergyAnomalies += r.EnergyAnomalies
	}
}
