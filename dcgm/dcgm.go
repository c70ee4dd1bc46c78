// Package dcgm reads GPU telemetry from the clusters the state lends to the
// programme's teams: NVIDIA DCGM through nv-hostengine (go-dcgm, in a child
// process), dcgm-exporter's Prometheus text endpoint, or a deterministic
// simulator. It folds samples into per-GPU hourly rollups. It is a leaf
// package: it takes a context, returns plain structs, and knows nothing of
// the web or the database.
package dcgm

import (
	"context"
	"time"
)

// Sample is one GPU's field values at one instant, as one poll saw them.
// A field that the source did not report (or reported blank/NaN) is nil.
type Sample struct {
	UUID     string // GPU UUID (GPU-…); for a MIG instance, the parent GPU's UUID
	MIG      string // MIG instance (GPU_I_ID), "" for a whole GPU
	Profile  string // MIG profile (GPU_I_PROFILE), if any
	Model    string // e.g. "NVIDIA B200", "NVIDIA H100 80GB HBM3"
	Node     string // host name
	Index    int    // GPU index on its node
	Time     time.Time
	Labels   map[string]string // kept job labels: pod, namespace, container, hpc_job
	Util     *float64          // DCGM_FI_DEV_GPU_UTIL, percent 0–100
	GRActive *float64          // DCGM_FI_PROF_GR_ENGINE_ACTIVE, ratio 0–1
	SMActive *float64          // DCGM_FI_PROF_SM_ACTIVE, ratio 0–1
	FBUsed   *float64          // DCGM_FI_DEV_FB_USED, MiB
	Power    *float64          // DCGM_FI_DEV_POWER_USAGE, W
	EnergyMJ *float64          // DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, mJ since boot (a counter; resets on reboot)
	XIDs     *float64          // DCGM_FI_DEV_XID_ERRORS, the last XID error code seen (0 none)
}

// Key identifies the device a sample belongs to: a whole GPU or one MIG instance.
func (s Sample) Key() string {
	if s.MIG == "" {
		return s.UUID
	}
	return s.UUID + "/" + s.MIG
}

// Poll is the result of one poll of a source.
type Poll struct {
	Samples []Sample
	Skipped int // malformed, blank or NaN values counted and skipped
}

// Source is one cluster's telemetry endpoint.
type Source interface {
	// Poll reads the current values of every GPU the source sees.
	Poll(ctx context.Context) (Poll, error)
	// Close releases the source (child processes, connections).
	Close() error
}

// Rollup is what one device did in one clock hour (UTC-aligned). Gaps in
// telemetry are unobserved time: they count in neither ObservedSeconds nor
// ActiveSeconds, and nothing is filled in.
//
// A device is a physical GPU (Key = UUID, MIG "") or one MIG instance of it
// (Key = UUID/GPU_I_ID). The physical GPU's rollup accounts for the whole
// GPU, its instances included (see Folder for the rules); an instance's
// rollup is a breakdown of its GPU's, never added to it: a GPU's figures
// are its physical rollup's alone.
type Rollup struct {
	Key             string    // Sample.Key()
	UUID            string    // the physical GPU's UUID
	MIG             string    // the MIG instance (GPU_I_ID); "" for the physical GPU
	Profile         string    // the MIG instance's profile, e.g. "3g.40gb"
	Hour            time.Time // start of the hour, UTC
	Node            string
	Model           string
	ObservedSeconds float64 // seconds covered by samples (each sample covers up to the poll interval)
	ActiveSeconds   float64 // observed seconds in which the device was busy (see Folder)
	UtilSum         float64 // ∑ util% × seconds; mean util = UtilSum / ObservedSeconds
	GRActiveSum     float64 // ∑ ratio × seconds
	SMActiveSum     float64 // ∑ ratio × seconds
	EnergyJ         float64 // energy used in the hour from the counter, resets and anomalies handled
	MaxFBMiB        float64
	// XIDCount is the number of XID error events: the GPU's last-XID value
	// (DCGM_FI_DEV_XID_ERRORS) changing to a non-zero code.
	XIDCount int
	// LastXID is the GPU's last-XID value at the end of the hour, when
	// XIDSeen; a collector taking over carries its count on from it.
	LastXID float64
	XIDSeen bool
	// EnergyAnomalies counts the energy counter readings no plausible power
	// explains (a rise or a drop beyond the GPU's maximum power): their
	// intervals' energy is estimated from the power reading instead.
	EnergyAnomalies int
	Samples         int
	// BusyThresholdPct is the busy threshold the hour was folded at, in
	// percent (the highest, when an hour was folded at several).
	BusyThresholdPct float64
	// Workloads splits a physical GPU's observed time by the workload its
	// series named (see WorkloadOf): GPU-seconds observed and busy per
	// workload ID. Time without a workload label is in no entry. Nil for a
	// MIG instance's rollup and for an hour with no labelled time.
	Workloads map[string]WorkloadTime
}

// WorkloadTime is a workload's share of a GPU's hour.
type WorkloadTime struct {
	ObservedSeconds float64
	ActiveSeconds   float64
}

// WorkloadOf names the workload of a series from its job labels:
// "slurm:<hpc_job>" for Slurm, "k8s:<namespace>/<pod>" for Kubernetes, ""
// for none. (Several jobs on one device's duplicate series come joined by
// commas, and stay one workload: the exporter cannot tell their shares.)
func WorkloadOf(labels map[string]string) string {
	if j := labels["hpc_job"]; j != "" {
		return "slurm:" + j
	}
	if p := labels["pod"]; p != "" {
		return "k8s:" + labels["namespace"] + "/" + p
	}
	return ""
}

// MeanUtil is the time-weighted mean utilisation in percent over the observed seconds.
func (r Rollup) MeanUtil() float64 {
	if r.ObservedSeconds == 0 {
		return 0
	}
	return r.UtilSum / r.ObservedSeconds
}
