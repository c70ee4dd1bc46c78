package dcgm

import (
	"math"
	"testing"
	"time"
)

// TestBusyThresholdClassifiesObservedTime: observed time is busy at or above
// the threshold and idle below it; a gap beyond MaxGap is unobserved; each
// rollup records the threshold it was folded at.
func TestBusyThresholdClassifiesObservedTime(t *testing.T) {
	// One GPU polled every minute: 0 % (starts it), 3 %, 5 %, 50 %, 0 %,
	// then a 10-minute gap (only MaxGap = 2 min of it covered) and 20 %.
	utils := []struct {
		at   int // seconds after 10:00
		util float64
	}{{0, 0}, {60, 3}, {120, 5}, {180, 50}, {240, 0}, {900, 20}}
	for _, tc := range []struct {
		name      string
		threshold float64
		wantTh    float64
		busy      float64
	}{
		{"default threshold", 0, DefaultBusyThresholdPct, 60 + 60 + 120},
		{"any activity", -1, 0, 60 + 60 + 60 + 120},
		{"at 5 % counts", 5, 5, 60 + 60 + 120},
		{"30 %", 30, 30, 60},
		{"above everything", 60, 60, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFolder(FolderConfig{Interval: time.Minute, BusyThresholdPct: tc.threshold})
			for _, u := range utils {
				f.Add(smp("GPU-a", at(10, 0, 0, 0).Add(time.Duration(u.at)*time.Second), u.util, -1))
			}
			rs := f.Snapshot()
			if len(rs) != 1 {
				t.Fatalf("%d rollups, want 1", len(rs))
			}
			r := rs[0]
			const clock, observed = 900.0, 240.0 + 120
			if r.ObservedSeconds != observed {
				t.Errorf("observed %v, want %v", r.ObservedSeconds, observed)
			}
			if r.ActiveSeconds != tc.busy {
				t.Errorf("busy %v, want %v", r.ActiveSeconds, tc.busy)
			}
			if idle := r.ObservedSeconds - r.ActiveSeconds; idle != observed-tc.busy {
				t.Errorf("idle %v, want %v", idle, observed-tc.busy)
			}
			if unobserved := clock - r.ObservedSeconds; unobserved != 540 {
				t.Errorf("unobserved %v, want 540", unobserved)
			}
			if r.BusyThresholdPct != tc.wantTh {
				t.Errorf("threshold recorded %v, want %v", r.BusyThresholdPct, tc.wantTh)
			}
		})
	}
}

// TestWorkloadAttribution: a GPU's observed and busy time is split by the
// workload its series name (Slurm's hpc_job, Kubernetes' namespace and
// pod); a MIG GPU's by its instances' workloads, each by its share; time
// without labels is in no workload.
func TestWorkloadAttribution(t *testing.T) {
	if got := WorkloadOf(map[string]string{"hpc_job": "4711", "pod": "p"}); got != "slurm:4711" {
		t.Errorf("Slurm workload %q", got)
	}
	if got := WorkloadOf(map[string]string{"namespace": "team-a", "pod": "train-0"}); got != "k8s:team-a/train-0" {
		t.Errorf("Kubernetes workload %q", got)
	}
	if got := WorkloadOf(map[string]string{"container": "c"}); got != "" {
		t.Errorf("no workload: %q", got)
	}

	f := NewFolder(FolderConfig{Interval: time.Minute, BusyThresholdPct: 5})
	job := func(s Sample, labels map[string]string) Sample { s.Labels = labels; return s }
	// 0–1 min starts; 1–3 min job 4711 at 50 %; 3–4 min pod train-0 at 2 % (idle); 4–5 min no labels at 80 %.
	f.Add(job(smp("GPU-a", at(10, 0, 0, 0), 50, -1), map[string]string{"hpc_job": "4711"}))
	f.Add(job(smp("GPU-a", at(10, 1, 0, 0), 50, -1), map[string]string{"hpc_job": "4711"}))
	f.Add(job(smp("GPU-a", at(10, 2, 0, 0), 50, -1), map[string]string{"hpc_job": "4711"}))
	f.Add(job(smp("GPU-a", at(10, 3, 0, 0), 2, -1), map[string]string{"namespace": "team-a", "pod": "train-0"}))
	f.Add(smp("GPU-a", at(10, 4, 0, 0), 80, -1))
	// An A100 in MIG mode: a 3g instance (3/7) running a pod, a 4g instance (4/7) without labels.
	mig := func(t time.Time, id, profile string, util float64, labels map[string]string) Sample {
		return Sample{UUID: "GPU-m", MIG: id, Profile: profile, Node: "n", Model: "NVIDIA A100-SXM4-80GB", Time: t, Util: fp(util), Labels: labels}
	}
	for m := range 3 {
		f.Add(mig(at(10, m, 0, 0), "1", "3g.40gb", 60, map[string]string{"namespace": "ns", "pod": "p"}))
		f.Add(mig(at(10, m, 0, 0), "2", "4g.40gb", 0, nil))
	}
	byKey := map[string]Rollup{}
	for _, r := range f.Snapshot() {
		byKey[r.Key] = r
	}
	a := byKey["GPU-a"]
	want := map[string]WorkloadTime{"slurm:4711": {120, 120}, "k8s:team-a/train-0": {60, 0}}
	if len(a.Workloads) != len(want) {
		t.Fatalf("GPU workloads %v, want %v", a.Workloads, want)
	}
	for id, w := range want {
		if a.Workloads[id] != w {
			t.Errorf("%s: %+v, want %+v", id, a.Workloads[id], w)
		}
	}
	if a.ObservedSeconds != 240 || a.ActiveSeconds != 180 {
		t.Errorf("GPU observed %v busy %v, want 240 and 180 (the unlabelled minute in no workload)", a.ObservedSeconds, a.ActiveSeconds)
	}
	m := byKey["GPU-m"]
	if got := m.Workloads["k8s:ns/p"]; math.Abs(got.ObservedSeconds-120*3.0/7) > 1e-9 || math.Abs(got.ActiveSeconds-120*3.0/7) > 1e-9 || len(m.Workloads) != 1 {
		t.Errorf("MIG GPU workloads %v, want 3/7 of 120 s for k8s:ns/p", m.Workloads)
	}
	if inst := byKey["GPU-m/1"]; inst.Workloads != nil {
		t.Errorf("a MIG instance's rollup carries workloads: %v", inst.Workloads)
	}
	// A snapshot is a copy: folding on does not change it.
	before := f.Snapshot()
	f.Add(job(smp("GPU-a", at(10, 5, 0, 0), 50, -1), map[string]string{"hpc_job": "4711"}))
	for _, r := range before {
		if r.Key == "GPU-a" && r.Workloads["slurm:4711"].ObservedSeconds != 120 {
			t.Errorf("the snapshot changed: %v", r.Workloads)
		}
	}
}
