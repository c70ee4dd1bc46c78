package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Month is a calendar month in KST, as "2006-01".
type Month struct{ First Date }

// ParseMonth reads "2006-01".
func ParseMonth(s string) (Month, error) {
	d, err := ParseDate(strings.TrimSpace(s) + "-01")
	if err != nil {
		return Month{}, fmt.Errorf("month %q: %w", s, ErrInvalid)
	}
	return Month{First: d}, nil
}

// MonthOf is the KST month t falls in.
func MonthOf(t time.Time) Month {
	d := DateOf(t)
	return Month{First: NewDate(d.Year, d.Month, 1)}
}

func (m Month) String() string { return m.First.String()[:7] }

// Next is the month after.
func (m Month) Next() Month { return Month{First: NewDate(m.First.Year, m.First.Month+1, 1)} }

// Last is the month's last day.
func (m Month) Last() Date { return m.Next().First.AddDays(-1) }

// TeamMonth is what a team's allocations did in one month: the sum of their
// usage over the month (each clipped to its period), expected time to now.
type TeamMonth struct {
	Org         *Organisation
	Month       Month
	Allocations int
	// AllocatedSeconds is the GPU-seconds the team's blocks were lent for
	// in the month, whole periods (the future included): Allocated × the
	// period's time in the month.
	AllocatedSeconds float64
	Usage            Usage // summed over the allocations
}

// AllocatedGPUHours is AllocatedSeconds in hours.
func (t TeamMonth) AllocatedGPUHours() float64 { return t.AllocatedSeconds / 3600 }

// merge adds another allocation's usage (of the same or another team).
func (u *Usage) merge(o Usage) {
	u.Allocated += o.Allocated
	u.GPUs += o.GPUs
	u.ExpectedSeconds += o.ExpectedSeconds
	u.ExpectedNamedSeconds += o.ExpectedNamedSeconds
	u.DownSeconds += o.DownSeconds
	u.ObservedDownSeconds += o.ObservedDownSeconds
	first := u.Devices == 0
	u.add(rollupSums{Observed: o.ObservedSeconds, Active: o.ActiveSeconds, Util: o.UtilSum, GR: o.GRSum, SM: o.SMSum,
		Energy: o.EnergyJ, MaxFB: o.MaxFBMiB, XIDs: int64(o.XIDCount), Anomalies: int64(o.EnergyAnomalies),
		Samples: int64(o.Samples), Devices: int64(o.Devices), Instances: int64(o.Instances)})
	switch {
	case o.Devices == 0:
	case first:
		u.BusyThresholdMin, u.BusyThresholdMax = o.BusyThresholdMin, o.BusyThresholdMax
	default:
		u.BusyThresholdMin, u.BusyThresholdMax = min(u.BusyThresholdMin, o.BusyThresholdMin), max(u.BusyThresholdMax, o.BusyThresholdMax)
	}
}

// monthAllocations are the allocations whose period meets the month: of one
// organisation, or of all when orgID is nil.
func monthAllocations(ctx context.Context, db *gorm.DB, orgID *uint, m Month) ([]Allocation, error) {
	q := db.WithContext(ctx).Preload("Organisation").Where("period_from <= ? AND period_to >= ?", m.Last().String(), m.First.String()).
		Order("organisation_id, id")
	if orgID != nil {
		q = q.Where("organisation_id = ?", *orgID)
	}
	var as []Allocation
	if err := q.Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: allocations of %s: %w", m, err)
	}
	return as, nil
}

// teamMonthOf sums the usage of allocations (of one team) over the month,
// us being their usages in the same order (allocationsUsage).
func teamMonthOf(as []Allocation, us []Usage, m Month, now time.Time) TeamMonth {
	t := TeamMonth{Month: m, Allocations: len(as)}
	from, to := m.First.Start(), m.Next().First.Start()
	for i := range as {
		if t.Org == nil {
			t.Org = as[i].Organisation
		}
		u := us[i]
		t.AllocatedSeconds += float64(u.Allocated) * u.To.Sub(u.From).Seconds()
		t.Usage.merge(u)
	}
	until := now
	if until.After(to) {
		until = to
	}
	if until.Before(from) {
		until = from
	}
	t.Usage.From, t.Usage.To, t.Usage.Until = from.UTC(), to.UTC(), until.UTC()
	return t
}

// monthUsage is the usage of each allocation over the month.
func monthUsage(ctx context.Context, db *gorm.DB, as []Allocation, m Month, now time.Time) ([]Usage, error) {
	return allocationsUsage(ctx, db, as, m.First.Start(), m.Next().First.Start(), now)
}

// TeamMonthUsage is one team's month.
func TeamMonthUsage(ctx context.Context, db *gorm.DB, org *Organisation, m Month, now time.Time) (TeamMonth, error) {
	as, err := monthAllocations(ctx, db, &org.ID, m)
	if err != nil {
		return TeamMonth{}, err
	}
	us, err := monthUsage(ctx, db, as, m, now)
	if err != nil {
		return TeamMonth{}, err
	}
	t := teamMonthOf(as, us, m, now)
	t.Org = org
	return t, nil
}

// ProgrammeMonth is every team with an allocation in the month, by name,
// and the programme's total (Org nil).
func ProgrammeMonth(ctx context.Context, db *gorm.DB, m Month, now time.Time) ([]TeamMonth, TeamMonth, error) {
	as, err := monthAllocations(ctx, db, nil, m)
	if err != nil {
		return nil, TeamMonth{}, err
	}
	us, err := monthUsage(ctx, db, as, m, now)
	if err != nil {
		return nil, TeamMonth{}, err
	}
	var teams []TeamMonth
	total := TeamMonth{Month: m}
	for i := 0; i < len(as); {
		j := i
		for j < len(as) && as[j].OrganisationID == as[i].OrganisationID {
			j++
		}
		t := teamMonthOf(as[i:j], us[i:j], m, now)
		teams = append(teams, t)
		total.Allocations += t.Allocations
		total.AllocatedSeconds += t.AllocatedSeconds
		total.Usage.merge(t.Usage)
		total.Usage.From, total.Usage.To, total.Usage.Until = t.Usage.From, t.Usage.To, t.Usage.Until
		i = j
	}
	slices.SortFunc(teams, func(a, b TeamMonth) int { return strings.Compare(a.Org.NameKO, b.Org.NameKO) })
	return teams, total, nil
}

// GPUDay is what one physical GPU of a team's allocation did on one KST day.
type GPUDay struct {
	Day          string  `gorm:"column:day"`
	AllocationID uint    `gorm:"column:allocation_id"`
	UUID         string  `gorm:"column:uuid"`
	Node         string  `gorm:"column:node"`
	Model        string  `gorm:"column:model"`
	ObservedS    float64 `gorm:"column:observed_s"`
	ActiveS      float64 `gorm:"column:active_s"`
	UtilSum      float64 `gorm:"column:util_sum"`
	EnergyJ      float64 `gorm:"column:energy_j"`
	XIDCount     int     `gorm:"column:xid_count"`
	Anomalies    int     `gorm:"column:energy_anomalies"`
	BusyMin      float64 `gorm:"column:busy_threshold_min"`
	BusyMax      float64 `gorm:"column:busy_threshold_pct"`
	// When the GPU joined and left the allocation (nil: for its whole period).
	JoinedAt *time.Time `gorm:"column:joined_at"`
	LeftAt   *time.Time `gorm:"column:left_at"`
}

// MeanUtil is the day's time-weighted mean utilisation, percent.
func (g GPUDay) MeanUtil() float64 {
	if g.ObservedS == 0 {
		return 0
	}
	return g.UtilSum / g.ObservedS
}

// TeamMonthDays lists, per GPU and day, the daily rollups of the physical
// GPUs of a team's allocations in the month, each day within its
// allocation's period and within the time the GPU belonged to it (a GPU
// added or replaced during a day has that whole day's row: the daily
// rollups are not split by the hour); by day, then allocation and GPU.
func TeamMonthDays(ctx context.Context, db *gorm.DB, orgID uint, m Month) ([]GPUDay, error) {
	var rows []GPUDay
	err := db.WithContext(ctx).Table("gpu_rollup_days d").
		Select("d.day, ag.allocation_id, d.uuid, d.node, d.model, d.observed_s, d.active_s, d.util_sum, d.energy_j, "+
			"d.xid_count, d.energy_anomalies, d.busy_threshold_min, d.busy_threshold_pct, ag.joined_at, ag.left_at").
		Joins("JOIN allocation_gpus ag ON ag.gpu_uuid = d.uuid").
		Joins("JOIN allocations a ON a.id = ag.allocation_id").
		Where("a.organisation_id = ? AND d.device_key = d.uuid AND d.day >= ? AND d.day <= ? AND d.day >= a.period_from AND d.day <= a.period_to",
			orgID, m.First.String(), m.Last().String()).
		Order("d.day, ag.allocation_id, d.uuid").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: GPU days of organisation %d in %s: %w", orgID, m, err)
	}
	// Only the days the GPU belonged to the allocation for some of.
	return slices.DeleteFunc(rows, func(r GPUDay) bool {
		d, err := ParseDate(r.Day)
		if err != nil {
			return false
		}
		start, end := d.Start(), d.AddDays(1).Start()
		return (r.JoinedAt != nil && !r.JoinedAt.Before(end)) || (r.LeftAt != nil && !r.LeftAt.After(start))
	}), nil
}
