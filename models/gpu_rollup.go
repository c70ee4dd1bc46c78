package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"kaiportal/dcgm"
)

// Telemetry storage: hourly rollups per device as the collector writes them,
// daily rollups per device kept in step with them (so that a month of 1,000
// GPUs is 30,000 rows to read, not 720,000), the queries the allocation page
// and the usage verification run, and the collector's cluster lease.

// GPURollup is what one device (a GPU or a MIG instance) did in one UTC
// clock hour: the dcgm.Rollup as stored. Gaps are unobserved time: they are
// in neither ObservedS nor ActiveS.
type GPURollup struct {
	DeviceKey string    `gorm:"column:device_key;primaryKey;size:160"`
	Hour      time.Time `gorm:"column:hour;primaryKey;index:idx_rollup_uuid_hour,priority:2;index:idx_rollup_cluster_hour,priority:2"` // start of the hour, UTC
	UUID      string    `gorm:"column:uuid;size:128;not null;index:idx_rollup_uuid_hour,priority:1"`
	ClusterID uint      `gorm:"column:cluster_id;not null;index:idx_rollup_cluster_hour,priority:1"`
	Node      string    `gorm:"column:node;size:255;not null"`
	Model     string    `gorm:"column:model;size:120;not null"`
	ObservedS float64   `gorm:"column:observed_s;not null"`
	ActiveS   float64   `gorm:"column:active_s;not null"`
	UtilSum   float64   `gorm:"column:util_sum;not null"` // ∑ util% × seconds
	GRSum     float64   `gorm:"column:gr_sum;not null"`   // ∑ GR-engine-active ratio × seconds
	SMSum     float64   `gorm:"column:sm_sum;not null"`   // ∑ SM-active ratio × seconds
	EnergyJ   float64   `gorm:"column:energy_j;not null"`
	MaxFBMiB  float64   `gorm:"column:max_fb_mib;not null"`
	XIDCount  int       `gorm:"column:xid_count;not null"`
	Samples   int       `gorm:"column:samples;not null"`
	UpdatedAt time.Time `gorm:"column:updated_at;not null"`
}

// TableName names the hourly rollup table.
func (GPURollup) TableName() string { return "gpu_rollups" }

// GPURollupDay is what one device did in one KST calendar day: the sum of
// its hourly rollups, rewritten whenever one of them is.
type GPURollupDay struct {
	DeviceKey string    `gorm:"column:device_key;primaryKey;size:160"`
	Day       string    `gorm:"column:day;primaryKey;size:10;index:idx_rollup_day_uuid_day,priority:2"` // 2006-01-02, KST
	UUID      string    `gorm:"column:uuid;size:128;not null;index:idx_rollup_day_uuid_day,priority:1"`
	ClusterID uint      `gorm:"column:cluster_id;not null"`
	Hours     int       `gorm:"column:hours;not null"` // hourly rows summed
	Node      string    `gorm:"column:node;size:255;not null"`
	Model     string    `gorm:"column:model;size:120;not null"`
	ObservedS float64   `gorm:"column:observed_s;not null"`
	ActiveS   float64   `gorm:"column:active_s;not null"`
	UtilSum   float64   `gorm:"column:util_sum;not null"` // ∑ util% × seconds
	GRSum     float64   `gorm:"column:gr_sum;not null"`   // ∑ GR-engine-active ratio × seconds
	SMSum     float64   `gorm:"column:sm_sum;not null"`   // ∑ SM-active ratio × seconds
	EnergyJ   float64   `gorm:"column:energy_j;not null"`
	MaxFBMiB  float64   `gorm:"column:max_fb_mib;not null"`
	XIDCount  int       `gorm:"column:xid_count;not null"`
	Samples   int       `gorm:"column:samples;not null"`
	UpdatedAt time.Time `gorm:"column:updated_at;not null"`
}

// TableName names the daily rollup table.
func (GPURollupDay) TableName() string { return "gpu_rollup_days" }

var rollupColumns = []string{"uuid", "cluster_id", "node", "model", "observed_s", "active_s", "util_sum", "gr_sum",
	"sm_sum", "energy_j", "max_fb_mib", "xid_count", "samples", "updated_at"}

// UpsertRollups stores hourly rollups, REPLACING the measures of a (device,
// hour) row that exists, and rewrites the daily rollups of the days they
// fall in, in one transaction. The caller sends each hour's values so far,
// whole, not a delta since its last write: writing the same rollups twice
// changes nothing, and a collector that writes its running totals every
// minute leaves the latest ones. (The collector restores what was stored
// into its totals when it takes a cluster over, so a restart mid-hour loses
// only the time nobody was polling.)
func UpsertRollups(ctx context.Context, db *gorm.DB, rows []GPURollup, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	now = now.UTC()
	for i := range rows {
		rows[i].Hour = rows[i].Hour.UTC().Truncate(time.Hour)
		rows[i].UpdatedAt = now
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "device_key"}, {Name: "hour"}},
			DoUpdates: clause.AssignmentColumns(rollupColumns),
		}).CreateInBatches(rows, 500).Error
		if err != nil {
			return err
		}
		days := map[Date][]string{}
		seen := map[string]bool{}
		for _, r := range rows {
			d := DateOf(r.Hour)
			if k := d.String() + "|" + r.DeviceKey; !seen[k] {
				seen[k] = true
				days[d] = append(days[d], r.DeviceKey)
			}
		}
		for d, keys := range days {
			for chunk := range slices.Chunk(keys, 500) {
				if err := refreshDays(tx, d, chunk, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: upsert %d rollups: %w", len(rows), err)
	}
	return nil
}

// refreshDays rewrites the daily rollups of day from the hourly ones: of the
// devices named, or of every device when keys is nil.
func refreshDays(tx *gorm.DB, day Date, keys []string, now time.Time) error {
	where := "hour >= ? AND hour < ?"
	args := []any{day.String(), now, day.Start().UTC(), day.AddDays(1).Start().UTC()}
	if keys != nil {
		where += " AND device_key IN ?"
		args = append(args, keys)
	}
	return tx.Exec(`INSERT INTO gpu_rollup_days (device_key, day, uuid, cluster_id, node, model, observed_s, active_s,
			util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, hours, updated_at)
		SELECT device_key, ?, MAX(uuid), MAX(cluster_id), MAX(node), MAX(model), SUM(observed_s), SUM(active_s),
			SUM(util_sum), SUM(gr_sum), SUM(sm_sum), SUM(energy_j), MAX(max_fb_mib), SUM(xid_count), SUM(samples),
			COUNT(*), ?
		FROM gpu_rollups WHERE `+where+` GROUP BY device_key
		ON CONFLICT (device_key, day) DO UPDATE SET uuid = excluded.uuid, cluster_id = excluded.cluster_id,
			node = excluded.node, model = excluded.model, observed_s = excluded.observed_s, active_s = excluded.active_s,
			util_sum = excluded.util_sum, gr_sum = excluded.gr_sum, sm_sum = excluded.sm_sum, energy_j = excluded.energy_j,
			max_fb_mib = excluded.max_fb_mib, xid_count = excluded.xid_count, samples = excluded.samples,
			hours = excluded.hours, updated_at = excluded.updated_at`, args...).Error
}

// RebuildRollupDays rewrites the daily rollups of the days from..to (KST,
// both included) from the hourly ones, for hourly rows written in bulk
// without UpsertRollups (an import, a benchmark).
func RebuildRollupDays(ctx context.Context, db *gorm.DB, from, to Date, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for d := from; !d.After(to); d = d.AddDays(1) {
			if err := refreshDays(tx, d, nil, now.UTC()); err != nil {
				return fmt.Errorf("store: rebuild daily rollups of %s: %w", d, err)
			}
		}
		return nil
	})
}

// ClusterRollupsSince returns a cluster's stored hourly rollups for the
// hours starting at or after since: what a collector taking the cluster
// over adds its own totals to.
func ClusterRollupsSince(ctx context.Context, db *gorm.DB, clusterID uint, since time.Time) ([]GPURollup, error) {
	var rs []GPURollup
	err := db.WithContext(ctx).Where("cluster_id = ? AND hour >= ?", clusterID, since.UTC().Truncate(time.Hour)).
		Order("hour, device_key").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("store: rollups of cluster %d: %w", clusterID, err)
	}
	return rs, nil
}

// Usage is what an allocation's GPUs did over a range, from the rollups.
type Usage struct {
	From, To        time.Time // the range, clipped to the allocation's period
	GPUs            int       // GPUs named in the allocation
	ExpectedSeconds float64   // GPUs × seconds of the range: the GPU-seconds telemetry should cover
	ObservedSeconds float64   // GPU-seconds covered by telemetry
	ActiveSeconds   float64   // observed GPU-seconds with utilisation above zero
	UtilSum         float64   // ∑ util% × seconds
	GRSum, SMSum    float64
	EnergyJ         float64
	MaxFBMiB        float64
	XIDCount        int
	Samples         int
	Devices         int // distinct devices (GPUs and MIG instances) with telemetry
}

// Coverage is observed ÷ expected GPU-seconds (0 when nothing is expected).
func (u Usage) Coverage() float64 {
	if u.ExpectedSeconds <= 0 {
		return 0
	}
	return u.ObservedSeconds / u.ExpectedSeconds
}

// BusyGPUHours is the observed time the GPUs were busy, in GPU-hours.
func (u Usage) BusyGPUHours() float64 { return u.ActiveSeconds / 3600 }

// ObservedGPUHours is the observed time, in GPU-hours.
func (u Usage) ObservedGPUHours() float64 { return u.ObservedSeconds / 3600 }

// MeanUtil is the time-weighted mean utilisation over the observed time, in percent.
func (u Usage) MeanUtil() float64 {
	if u.ObservedSeconds == 0 {
		return 0
	}
	return u.UtilSum / u.ObservedSeconds
}

// EnergyKWh is the energy used, in kWh.
func (u Usage) EnergyKWh() float64 { return u.EnergyJ / 3.6e6 }

// clip returns the hour-aligned part of [from, to) inside the allocation's period.
func (a *Allocation) clip(from, to time.Time) (time.Time, time.Time) {
	start, end := a.Span()
	if from.After(start) {
		start = from.UTC().Truncate(time.Hour)
	}
	if to.Before(end) {
		end = to.UTC().Truncate(time.Hour)
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// wholeDays splits [start, end) into the KST days it covers whole, [d0, d1),
// and the hours before and after them. ok is false when it covers no whole day.
func wholeDays(start, end time.Time) (d0, d1 Date, ok bool) {
	d0 = DateOf(start)
	if !d0.Start().Equal(start) {
		d0 = d0.AddDays(1)
	}
	d1 = DateOf(end)
	return d0, d1, d0.Before(d1)
}

// allocationGPUs is the subquery of an allocation's GPU UUIDs.
func allocationGPUs(db *gorm.DB, allocID uint) *gorm.DB {
	return db.Table("allocation_gpus").Select("gpu_uuid").Where("allocation_id = ?", allocID)
}

// rollupSums are the sums of a set of rollup rows.
type rollupSums struct {
	Observed, Active, Util, GR, SM, Energy, MaxFB float64
	XIDs, Samples, Devices                        int64
}

const rollupSumsSQL = `COALESCE(SUM(observed_s), 0) AS observed, COALESCE(SUM(active_s), 0) AS active,
	COALESCE(SUM(util_sum), 0) AS util, COALESCE(SUM(gr_sum), 0) AS gr, COALESCE(SUM(sm_sum), 0) AS sm,
	COALESCE(SUM(energy_j), 0) AS energy, COALESCE(MAX(max_fb_mib), 0) AS max_fb,
	COALESCE(SUM(xid_count), 0) AS xids, COALESCE(SUM(samples), 0) AS samples`

func (u *Usage) add(s rollupSums) {
	u.ObservedSeconds += s.Observed
	u.ActiveSeconds += s.Active
	u.UtilSum += s.Util
	u.GRSum += s.GR
	u.SMSum += s.SM
	u.EnergyJ += s.Energy
	u.MaxFBMiB = max(u.MaxFBMiB, s.MaxFB)
	u.XIDCount += int(s.XIDs)
	u.Samples += int(s.Samples)
}

// AllocationUsage totals the telemetry of an allocation's GPUs (every device
// of each: a MIG instance counts under its GPU) from from to to (to
// exclusive, both taken to the hour), clipped to the allocation's period:
// the GPU-hours a usage report is checked against. Whole KST days are read
// from the daily rollups, the hours before and after them from the hourly ones.
func AllocationUsage(ctx context.Context, db *gorm.DB, allocID uint, from, to time.Time) (Usage, error) {
	db = db.WithContext(ctx)
	var a Allocation
	if err := db.First(&a, allocID).Error; err != nil {
		return Usage{}, notFound(fmt.Sprintf("store: usage of allocation %d", allocID), err)
	}
	var n int64
	if err := db.Model(&AllocationGPU{}).Where("allocation_id = ?", allocID).Count(&n).Error; err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	u := Usage{GPUs: int(n)}
	u.From, u.To = a.clip(from, to)
	u.ExpectedSeconds = float64(n) * u.To.Sub(u.From).Seconds()
	if !u.To.After(u.From) {
		return u, nil
	}
	const cols = "device_key, observed_s, active_s, util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples"
	var parts []*gorm.DB
	hours := func(from, to time.Time) {
		if to.After(from) {
			parts = append(parts, db.Table("gpu_rollups").Select(cols).
				Where("uuid IN (?) AND hour >= ? AND hour < ?", allocationGPUs(db, allocID), from, to))
		}
	}
	if d0, d1, ok := wholeDays(u.From, u.To); ok {
		hours(u.From, d0.Start().UTC())
		parts = append(parts, db.Table("gpu_rollup_days").Select(cols).
			Where("uuid IN (?) AND day >= ? AND day < ?", allocationGPUs(db, allocID), d0.String(), d1.String()))
		hours(d1.Start().UTC(), u.To)
	} else {
		hours(u.From, u.To)
	}
	// One statement over the parts: one round trip, and the devices counted across them.
	union := strings.TrimSuffix(strings.Repeat("? UNION ALL ", len(parts)), " UNION ALL ")
	args := make([]any, len(parts))
	for i, p := range parts {
		args[i] = p
	}
	var s rollupSums
	err := db.Raw("SELECT "+rollupSumsSQL+", COUNT(DISTINCT device_key) AS devices FROM ("+union+") parts", args...).Scan(&s).Error
	if err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	u.add(s)
	u.Devices = int(s.Devices)
	return u, nil
}

// SeriesPoint is one step (an hour or a KST day) of an allocation's chart:
// nil values where nothing was observed.
type SeriesPoint struct {
	At        time.Time // start of the step
	Util      *float64  // mean utilisation over the observed GPU-seconds, %
	Power     *float64  // mean power while observed, summed over the GPUs, W
	MemoryMiB *float64  // largest framebuffer used by any of the GPUs, MiB
	GPUs      float64   // observed GPU-seconds ÷ the step's seconds: how many GPUs' worth of telemetry it has
}

// Chart resolution: hourly up to HourlySeriesMax, daily beyond, at most
// MaxSeriesDays.
const (
	HourlySeriesMax = 7 * 24 * time.Hour
	MaxSeriesDays   = 3 * 366
)

// AllocationSeries returns the chart of an allocation's GPUs, or of the one
// GPU named by uuid (which must be in the allocation; "" means all), over
// [from, to) clipped to the allocation's period: one point per hour for a
// week or less, one per KST day beyond. Steps without telemetry are points
// with nil values: gaps stay gaps on the chart. step is the resolution.
func AllocationSeries(ctx context.Context, db *gorm.DB, a *Allocation, from, to time.Time, uuid string) (pts []SeriesPoint, step time.Duration, err error) {
	db = db.WithContext(ctx)
	if uuid != "" && !a.Has(uuid) {
		return nil, 0, fmt.Errorf("store: series of allocation %d: GPU %s: %w", a.ID, uuid, ErrNotFound)
	}
	start, end := a.clip(from, to)
	var rows []struct {
		At       string // hour (as the driver gives it) or day
		Hour     time.Time
		Observed float64
		Util     float64
		Power    float64
		MaxFB    float64
	}
	const sums = `SUM(observed_s) AS observed, SUM(util_sum) AS util,
		SUM(CASE WHEN observed_s > 0 THEN energy_j / observed_s ELSE 0 END) AS power, MAX(max_fb_mib) AS max_fb`
	var q *gorm.DB
	if end.Sub(start) <= HourlySeriesMax {
		step = time.Hour
		q = db.Table("gpu_rollups").Select("hour, "+sums).
			Where("uuid IN (?) AND hour >= ? AND hour < ?", allocationGPUs(db, a.ID), start, end).Group("hour").Order("hour")
	} else {
		step = 24 * time.Hour
		d0, d1 := DateOf(start), DateOf(end)
		if !d1.Start().Equal(end) {
			d1 = d1.AddDays(1)
		}
		if d1.After(d0.AddDays(MaxSeriesDays)) {
			d0 = d1.AddDays(-MaxSeriesDays)
		}
		start, end = d0.Start().UTC(), d1.Start().UTC()
		q = db.Table("gpu_rollup_days").Select("day AS at, "+sums).
			Where("uuid IN (?) AND day >= ? AND day < ?", allocationGPUs(db, a.ID), d0.String(), d1.String()).Group("day").Order("day")
	}
	if uuid != "" {
		q = q.Where("uuid = ?", uuid)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
	}
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		t := r.Hour.UTC()
		if step != time.Hour {
			d, err := ParseDate(r.At)
			if err != nil {
				return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
			}
			t = d.Start().UTC()
		}
		at[t.Unix()] = i
	}
	for t := start; t.Before(end); t = t.Add(step) {
		p := SeriesPoint{At: t}
		if i, ok := at[t.Unix()]; ok && rows[i].Observed > 0 {
			r := rows[i]
			util, power, fb := r.Util/r.Observed, r.Power, r.MaxFB
			p.Util, p.Power, p.MemoryMiB, p.GPUs = &util, &power, &fb, r.Observed/step.Seconds()
		}
		pts = append(pts, p)
	}
	return pts, step, nil
}

// ClusterLease says which collector owns a cluster until when. The owner
// renews it well before it expires; another collector takes the cluster
// over only once it has expired.
type ClusterLease struct {
	ClusterID uint      `gorm:"primaryKey;autoIncrement:false"`
	Owner     string    `gorm:"size:200;not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

// AcquireClusterLease takes or renews the lease of a cluster for owner until
// now+ttl. It reports false, changing nothing, while another owner's lease
// has not expired. One statement decides, so two collectors asking at once
// cannot both win, on SQLite or PostgreSQL.
func AcquireClusterLease(ctx context.Context, db *gorm.DB, clusterID uint, owner string, ttl time.Duration, now time.Time) (bool, error) {
	now = now.UTC().Truncate(time.Microsecond)
	res := db.WithContext(ctx).Exec(`INSERT INTO cluster_leases (cluster_id, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (cluster_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE cluster_leases.owner = excluded.owner OR cluster_leases.expires_at <= ?`,
		clusterID, owner, now.Add(ttl), now)
	if res.Error != nil {
		return false, fmt.Errorf("store: lease of cluster %d: %w", clusterID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ReleaseClusterLease gives up owner's lease of a cluster, if it holds it.
func ReleaseClusterLease(ctx context.Context, db *gorm.DB, clusterID uint, owner string) error {
	err := db.WithContext(ctx).Where("cluster_id = ? AND owner = ?", clusterID, owner).Delete(&ClusterLease{}).Error
	if err != nil {
		return fmt.Errorf("store: release lease of cluster %d: %w", clusterID, err)
	}
	return nil
}

// TelemetryStore is the collector's store (dcgm.Store) on the portal
// database. Secrets opens the clusters' sealed bearer tokens; it may be nil
// when no cluster has one.
type TelemetryStore struct {
	DB      *gorm.DB
	Secrets *SecretBox
}

var _ dcgm.Store = TelemetryStore{}

// ClusterConfig is the cluster as the collector needs it, with the token
// in the clear if BearerToken holds it (TelemetryStore opens it).
func (c *Cluster) ClusterConfig() dcgm.ClusterConfig {
	return dcgm.ClusterConfig{ID: c.ID, Name: c.Name, Kind: c.SourceKind, Endpoints: c.EndpointList(),
		Interval: c.PollInterval(), BearerToken: c.BearerToken, TLSSkipVerify: c.TLSSkipVerify, Seed: c.SimSeed,
		GPUModel: c.GPUModel, GPUCount: c.GPUCount}
}

// Clusters implements dcgm.Store.
func (s TelemetryStore) Clusters(ctx context.Context) ([]dcgm.ClusterConfig, error) {
	cs, err := ListClusters(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	out := make([]dcgm.ClusterConfig, len(cs))
	for i := range cs {
		if cs[i].BearerToken, err = s.Secrets.Open(cs[i].SealedToken); err != nil {
			return nil, fmt.Errorf("store: bearer token of cluster %q (id %d): %w", cs[i].Name, cs[i].ID, err)
		}
		out[i] = cs[i].ClusterConfig()
	}
	return out, nil
}

// AcquireLease implements dcgm.Store.
func (s TelemetryStore) AcquireLease(ctx context.Context, clusterID uint, owner string, ttl time.Duration, now time.Time) (bool, error) {
	return AcquireClusterLease(ctx, s.DB, clusterID, owner, ttl, now)
}

// ReleaseLease implements dcgm.Store.
func (s TelemetryStore) ReleaseLease(ctx context.Context, clusterID uint, owner string) error {
	return ReleaseClusterLease(ctx, s.DB, clusterID, owner)
}

// StoredRollups implements dcgm.Store.
func (s TelemetryStore) StoredRollups(ctx context.Context, clusterID uint, since time.Time) ([]dcgm.Rollup, error) {
	rows, err := ClusterRollupsSince(ctx, s.DB, clusterID, since)
	if err != nil {
		return nil, err
	}
	out := make([]dcgm.Rollup, len(rows))
	for i, r := range rows {
		out[i] = dcgm.Rollup{Key: r.DeviceKey, UUID: r.UUID, Hour: r.Hour.UTC(), Node: r.Node, Model: r.Model,
			ObservedSeconds: r.ObservedS, ActiveSeconds: r.ActiveS, UtilSum: r.UtilSum, GRActiveSum: r.GRSum,
			SMActiveSum: r.SMSum, EnergyJ: r.EnergyJ, MaxFBMiB: r.MaxFBMiB, XIDCount: r.XIDCount, Samples: r.Samples}
	}
	return out, nil
}

// UpsertRollups implements dcgm.Store.
func (s TelemetryStore) UpsertRollups(ctx context.Context, clusterID uint, rs []dcgm.Rollup, now time.Time) error {
	return UpsertRollups(ctx, s.DB, rollupRows(clusterID, rs), now)
}

func rollupRows(clusterID uint, rs []dcgm.Rollup) []GPURollup {
	rows := make([]GPURollup, len(rs))
	for i, r := range rs {
		rows[i] = GPURollup{DeviceKey: r.Key, Hour: r.Hour, UUID: r.UUID, ClusterID: clusterID, Node: r.Node, Model: r.Model,
			ObservedS: r.ObservedSeconds, ActiveS: r.ActiveSeconds, UtilSum: r.UtilSum, GRSum: r.GRActiveSum,
			SMSum: r.SMActiveSum, EnergyJ: r.EnergyJ, MaxFBMiB: r.MaxFBMiB, XIDCount: r.XIDCount, Samples: r.Samples}
	}
	return rows
}

// RecordStatus implements dcgm.Store.
func (s TelemetryStore) RecordStatus(ctx context.Context, clusterID uint, st dcgm.Status) error {
	return RecordClusterStatus(ctx, s.DB, clusterID, ClusterStatus{At: st.At, OK: st.OK, Err: st.Err, GPUsSeen: st.GPUsSeen})
}

// RecordGPUs implements dcgm.Store.
func (s TelemetryStore) RecordGPUs(ctx context.Context, clusterID uint, gpus []dcgm.GPUInfo, at time.Time) error {
	seen := make([]SeenGPU, len(gpus))
	for i, g := range gpus {
		seen[i] = SeenGPU{UUID: g.UUID, Node: g.Node, Model: g.Model, Index: g.Index}
	}
	return RecordGPUs(ctx, s.DB, clusterID, seen, at)
}
