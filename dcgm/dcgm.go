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
type Rollup struct {
	Key             string    // Sample.Key()
	UUID            string    // parent GPU UUID
	Hour            time.Time // start of the hour, UTC
	Node            string
	Model           string
	ObservedSeconds float64 // seconds covered by samples (each sample covers up to the poll interval)
	ActiveSeconds   float64 // observed seconds with utilisation > 0 (busy)
	UtilSum         float64 // ∑ util% × seconds; mean util = UtilSum / ObservedSeconds
	GRActiveSum     float64 // ∑ ratio × seconds
	SMActiveSum     float64 // ∑ ratio × seconds
	EnergyJ         float64 // energy used in the hour from the counter, resets handled
	MaxFBMiB        float64
	XIDCount        int // samples that carried a non-zero XID
	Samples         int
}

// MeanUtil is the time-weighted mean utilisation in percent over the observed seconds.
func (r Rollup) MeanUtil() float64 {
	if r.ObservedSeconds == 0 {
		return 0
	}
	return r.UtilSum / r.ObservedSeconds
}
