package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Telemetry retention: hourly rollups older than a number of months are
// compacted into the daily ones (which already hold their sums), so that
// the database grows by one row per GPU a day instead of 24.

// CompactEvery is how often the collector compacts when retention is set.
const CompactEvery = 6 * time.Hour

// Compaction is what one CompactRollups did.
type Compaction struct {
	Before  Date  // hourly rows of the KST days before this were compacted
	Days    int   // days compacted
	Deleted int64 // hourly rows removed
	Kept    int64 // hourly rows kept: GPUs that joined or left an allocation part-way (see below)
}

// RetentionCutoff is the first KST day whose hourly rows are kept when
// months of them are: the first day of the month months before now's.
func RetentionCutoff(now time.Time, months int) Date {
	d := DateOf(now)
	return NewDate(d.Year, d.Month-time.Month(months), 1)
}

// CompactRollups compacts the hourly rollups of the KST days before
// RetentionCutoff(now, months) into the daily rollups: for each day and
// chunk of devices, in one transaction, the daily rows are summed again
// from the hourly ones (so that they are exact, whatever moved them since)
// and the hourly rows deleted. A crash leaves every chunk either compacted
// or untouched, and running it again compacts what is left: it is
// idempotent. Every figure read over whole days (the allocation and team
// pages, usage checks) reads the daily rows already and stays the same.
// Hourly rows are kept for the GPUs that belong to an allocation for part
// of its period (added, replaced or removed at a time), whose figures are
// read from the hours in which they belonged. The per-workload hours
// (gpu_workload_hours) are kept. So are the hours that a downtime window of
// a GPU's cluster touches (of any scope): the telemetry received during
// downtime is read from them. months < 1 compacts nothing.
func CompactRollups(ctx context.Context, db *gorm.DB, months int, now time.Time) (Compaction, error) {
	db = db.WithContext(ctx)
	res := Compaction{Before: RetentionCutoff(now, months)}
	if months < 1 {
		return res, nil
	}
	cut := res.Before.Start().UTC()
	windowed := db.Table("allocation_gpus").Select("gpu_uuid").Where("joined_at IS NOT NULL OR left_at IS NOT NULL")
	down, downArgs, err := outsideDowntime(db, cut)
	if err != nil {
		return res, fmt.Errorf("store: compact rollups: %w", err)
	}
	for {
		// The oldest hour left to compact: one day at a time from there.
		var first []GPURollup
		if err := db.Select("hour").Where("hour < ? AND uuid NOT IN (?)", cut, windowed).Where(down, downArgs...).Order("hour").Limit(1).
			Find(&first).Error; err != nil {
			return res, fmt.Errorf("store: compact rollups: %w", err)
		}
		if len(first) == 0 {
			break
		}
		day := DateOf(first[0].Hour)
		from, to := day.Start().UTC(), day.AddDays(1).Start().UTC()
		var keys []string
		if err := db.Table("gpu_rollups").Distinct("device_key").Where("hour >= ? AND hour < ? AND uuid NOT IN (?)", from, to, windowed).
			Where(down, downArgs...).Order("device_key").Pluck("device_key", &keys).Error; err != nil {
			return res, fmt.Errorf("store: compact rollups of %s: %w", day, err)
		}
		deleted := res.Deleted
		for i := 0; i < len(keys); i += RollupChunk {
			chunk := keys[i:min(i+RollupChunk, len(keys))]
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := refreshDays(tx, day, chunk, now.UTC()); err != nil {
					return err
				}
				del := tx.Where("hour >= ? AND hour < ? AND device_key IN ?", from, to, chunk).Where(down, downArgs...).Delete(&GPURollup{})
				res.Deleted += del.RowsAffected
				return del.Error
			})
			if err != nil {
				return res, fmt.Errorf("store: compact rollups of %s: %w", day, err)
			}
		}
		// A day that gives up no row (another collector compacting it at
		// the same moment) ends this run rather than being read again.
		if res.Days++; res.Deleted == deleted {
			return res, fmt.Errorf("store: compact rollups of %s: no hourly row removed", day)
		}
	}
	if err := db.Model(&GPURollup{}).Where("hour < ?", cut).Count(&res.Kept).Error; err != nil {
		return res, fmt.Errorf("store: compact rollups: %w", err)
	}
	return res, nil
}

// outsideDowntime is the condition, on gpu_rollups, of the rows in no hour
// that a downtime window (starting before cut) of the row's GPU's cluster
// touches.
func outsideDowntime(db *gorm.DB, cut time.Time) (string, []any, error) {
	var downs []Downtime
	if err := db.Select("cluster_id", "start_at", "end_at").Where("start_at < ?", cut).Find(&downs).Error; err != nil {
		return "", nil, err
	}
	if len(downs) == 0 {
		return "1 = 1", nil, nil
	}
	conds := make([]string, len(downs))
	args := make([]any, 0, 3*len(downs))
	for i, d := range downs {
		conds[i] = "(hour >= ? AND hour < ? AND uuid IN (?))"
		args = append(args, d.Start.UTC().Truncate(time.Hour), d.End.UTC(),
			db.Session(&gorm.Session{NewDB: true}).Table("gpus").Select("uuid").Where("cluster_id = ?", d.ClusterID))
	}
	return "NOT (" + strings.Join(conds, " OR ") + ")", args, nil
}
