package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"kaiportal/dcgm"
)

// GPUWorkloadHour is a physical GPU's time in one UTC hour attributed to
// one workload: a Slurm job ("slurm:<hpc_job>") or a Kubernetes pod
// ("k8s:<namespace>/<pod>"), from the job labels of its telemetry (see
// dcgm.WorkloadOf). Written with the GPU's hourly rollup, replacing the
// row's measures like it; time without a workload label is in no row.
type GPUWorkloadHour struct {
	UUID      string    `gorm:"column:uuid;primaryKey;size:128"`
	Hour      time.Time `gorm:"column:hour;primaryKey;index:idx_workload_cluster_hour,priority:2"`
	Workload  string    `gorm:"column:workload;primaryKey;size:255"`
	ClusterID uint      `gorm:"column:cluster_id;not null;index:idx_workload_cluster_hour,priority:1"`
	ObservedS float64   `gorm:"column:observed_s;not null"`
	ActiveS   float64   `gorm:"column:active_s;not null"`
	UpdatedAt time.Time `gorm:"column:updated_at;not null"`
}

// TableName names the workload table.
func (GPUWorkloadHour) TableName() string { return "gpu_workload_hours" }

// workloadRows are the workload rows of the physical GPUs' rollups.
func workloadRows(rows []GPURollup, now time.Time) []GPUWorkloadHour {
	var out []GPUWorkloadHour
	for _, r := range rows {
		if r.DeviceKey != r.UUID {
			continue
		}
		for id, w := range r.Workloads {
			out = append(out, GPUWorkloadHour{UUID: r.UUID, Hour: r.Hour.UTC(), Workload: truncate(id, 255), ClusterID: r.ClusterID,
				ObservedS: w.ObservedSeconds, ActiveS: w.ActiveSeconds, UpdatedAt: now})
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// upsertWorkloads stores workload rows, replacing the measures of a row that
// exists (of the same cluster).
func upsertWorkloads(tx *gorm.DB, rows []GPUWorkloadHour) error {
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "uuid"}, {Name: "hour"}, {Name: "workload"}},
		DoUpdates: clause.AssignmentColumns([]string{"observed_s", "active_s", "updated_at"}),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "gpu_workload_hours.cluster_id = excluded.cluster_id"}}},
	}).CreateInBatches(rows, 500).Error
}

// clusterWorkloadsSince reads a cluster's workload rows from since on, by
// GPU and hour.
func clusterWorkloadsSince(db *gorm.DB, clusterID uint, since time.Time) (map[string]map[string]dcgm.WorkloadTime, error) {
	var rows []GPUWorkloadHour
	if err := db.Where("cluster_id = ? AND hour >= ?", clusterID, since.UTC().Truncate(time.Hour)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: workloads of cluster %d: %w", clusterID, err)
	}
	out := map[string]map[string]dcgm.WorkloadTime{}
	for _, r := range rows {
		k := r.UUID + "|" + r.Hour.UTC().Format(time.RFC3339)
		if out[k] == nil {
			out[k] = map[string]dcgm.WorkloadTime{}
		}
		out[k][r.Workload] = dcgm.WorkloadTime{ObservedSeconds: r.ObservedS, ActiveSeconds: r.ActiveS}
	}
	return out, nil
}

// WorkloadUsage is a workload's GPU time over a range.
type WorkloadUsage struct {
	Workload  string  `gorm:"column:workload"`
	GPUs      int     `gorm:"column:gpus"`
	ObservedS float64 `gorm:"column:observed_s"`
	ActiveS   float64 `gorm:"column:active_s"`
}

// ObservedGPUHours is the workload's observed time in GPU-hours.
func (w WorkloadUsage) ObservedGPUHours() float64 { return w.ObservedS / 3600 }

// BusyGPUHours is the workload's busy time in GPU-hours.
func (w WorkloadUsage) BusyGPUHours() float64 { return w.ActiveS / 3600 }

// maxWorkloads bounds a breakdown: the rest is summed in one row ("").
const maxWorkloads = 50

// topWorkloads orders a breakdown, most observed first, and folds what is
// past maxWorkloads into one row with Workload "".
func topWorkloads(ws []WorkloadUsage) []WorkloadUsage {
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].ObservedS != ws[j].ObservedS {
			return ws[i].ObservedS > ws[j].ObservedS
		}
		return ws[i].Workload < ws[j].Workload
	})
	if len(ws) > maxWorkloads {
		rest := WorkloadUsage{}
		for _, w := range ws[maxWorkloads:] {
			rest.GPUs += w.GPUs
			rest.ObservedS += w.ObservedS
			rest.ActiveS += w.ActiveS
		}
		ws = append(ws[:maxWorkloads], rest)
	}
	return ws
}

// AllocationWorkloads breaks an allocation's GPU time (one GPU's when uuid
// is not "") in [from, to), clipped to its period, down by workload.
func AllocationWorkloads(ctx context.Context, db *gorm.DB, a *Allocation, uuid string, from, to time.Time) ([]WorkloadUsage, error) {
	db = db.WithContext(ctx)
	from, to = a.clip(from, to)
	rows := db.Raw(workloadRowsSQL(a.ID), from.UTC(), to.UTC())
	if uuid != "" {
		rows = db.Table("(?) r", rows).Select("workload, uuid, observed_s, active_s").Where("uuid = ?", uuid)
	}
	var ws []WorkloadUsage
	err := db.Table("(?) r", rows).
		Select("workload, COUNT(DISTINCT uuid) AS gpus, SUM(observed_s) AS observed_s, SUM(active_s) AS active_s").
		Group("workload").Scan(&ws).Error
	if err != nil {
		return nil, fmt.Errorf("store: workloads of allocation %d: %w", a.ID, err)
	}
	return topWorkloads(ws), nil
}

// workloadRowsSQL selects the workload hours of an allocation's GPUs in
// [?, ?), each GPU's while it belonged to the allocation: a GPU of the
// whole period in every hour, one added or replaced part-way from the
// first hour starting at or after its join to the hour of its leave,
// included (as windowedRows reads its rollups; a workload hour is not
// prorated).
func workloadRowsSQL(allocID uint) string {
	return fmt.Sprintf("SELECT w.workload, w.uuid, w.observed_s, w.active_s FROM gpu_workload_hours w "+
		"JOIN allocation_gpus ag ON ag.gpu_uuid = w.uuid AND ag.allocation_id = %d "+
		"WHERE w.hour >= ? AND w.hour < ? AND (ag.joined_at IS NULL OR w.hour >= ag.joined_at) "+
		"AND (ag.left_at IS NULL OR w.hour < ag.left_at)", allocID)
}

// TeamMonthWorkloads breaks a team's month down by workload: the time of
// its allocations' GPUs, each within its allocation's period.
func TeamMonthWorkloads(ctx context.Context, db *gorm.DB, orgID uint, m Month) ([]WorkloadUsage, error) {
	as, err := monthAllocations(ctx, db, &orgID, m)
	if err != nil {
		return nil, err
	}
	perAlloc, err := allocationsWorkloads(ctx, db, as, m.First.Start(), m.Next().First.Start())
	if err != nil {
		return nil, err
	}
	byID := map[string]*WorkloadUsage{}
	for _, ws := range perAlloc {
		for _, w := range ws {
			o := byID[w.Workload]
			if o == nil {
				o = &WorkloadUsage{Workload: w.Workload}
				byID[w.Workload] = o
			}
			o.GPUs += w.GPUs
			o.ObservedS += w.ObservedS
			o.ActiveS += w.ActiveS
		}
	}
	out := make([]WorkloadUsage, 0, len(byID))
	for _, w := range byID {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ObservedS != out[j].ObservedS {
			return out[i].ObservedS > out[j].ObservedS
		}
		return out[i].Workload < out[j].Workload
	})
	return out, nil
}

// allocationsWorkloads is AllocationWorkloads of each allocation (all its
// GPUs, each while it belonged), in their order, in one statement for up to usageBatch allocations.
func allocationsWorkloads(ctx context.Context, db *gorm.DB, as []Allocation, from, to time.Time) ([][]WorkloadUsage, error) {
	db = db.WithContext(ctx)
	out := make([][]WorkloadUsage, len(as))
	index := map[uint]int{}
	for start := 0; start < len(as); start += usageBatch {
		var parts []string
		var args []any
		for i := start; i < min(start+usageBatch, len(as)); i++ {
			a := &as[i]
			index[a.ID] = i
			f, t := a.clip(from, to)
			parts = append(parts, fmt.Sprintf("SELECT %d AS alloc_id, p.* FROM (%s) p", a.ID, workloadRowsSQL(a.ID)))
			args = append(args, f.UTC(), t.UTC())
		}
		var rows []struct {
			AllocID uint `gorm:"column:alloc_id"`
			WorkloadUsage
		}
		err := db.Raw("SELECT alloc_id, workload, COUNT(DISTINCT uuid) AS gpus, SUM(observed_s) AS observed_s, SUM(active_s) AS active_s FROM ("+
			strings.Join(parts, " UNION ALL ")+") parts GROUP BY alloc_id, workload", args...).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("store: workloads of %d allocations: %w", len(as), err)
		}
		for _, r := range rows {
			i := index[r.AllocID]
			out[i] = append(out[i], r.WorkloadUsage)
		}
	}
	for i := range out {
		out[i] = topWorkloads(out[i])
	}
	return out, nil
}
