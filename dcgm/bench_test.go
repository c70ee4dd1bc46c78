package dcgm

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// clusterDoc renders one scrape of a simulated 1,000-GPU cluster (125 nodes
// of 8) the way dcgm-exporter 3.x prints it: the default counter set (the
// seven families the portal reads among twenty-three) with the full label
// set, Kubernetes labels on every series.
var clusterDoc = sync.OnceValue(func() []byte {
	sim := NewSimulator(SimConfig{Seed: 1, Cluster: "bench", Nodes: 125, GPUsPerNode: 8, Profiles: SimProfiles{Busy: 0.7, Idle: 0.3},
		BlankRate: -1, Now: func() time.Time { return t0 }})
	p, err := sim.Poll(context.Background())
	if err != nil {
		panic(err)
	}
	others := []struct{ name, typ, help string }{
		{"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."},
		{"DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."},
		{"DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."},
		{"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."},
		{"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."},
		{"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."},
		{"DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %)."},
		{"DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %)."},
		{"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."},
		{"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters for all lanes."},
		{"DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "vGPU License status"},
		{"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors"},
		{"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors"},
		{"DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed"},
		{"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active."},
		{"DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active sending or receiving data."},
	}
	labels := func(s Sample) string {
		pod := s.Labels["pod"]
		ns := s.Labels["namespace"]
		return fmt.Sprintf(`gpu="%d",UUID="%s",pci_bus_id="00000000:%02X:00.0",device="nvidia%d",modelName="%s",Hostname="%s",DCGM_FI_DRIVER_VERSION="550.90.07",container="%s",namespace="%s",pod="%s"`,
			s.Index, s.UUID, 0x18+s.Index*0x11, s.Index, s.Model, s.Node, map[bool]string{true: "pytorch"}[pod != ""], ns, pod)
	}
	var b bytes.Buffer
	write := func(name, typ, help string, value func(Sample) (float64, bool)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, s := range p.Samples {
			if v, ok := value(s); ok {
				fmt.Fprintf(&b, "%s{%s} %s\n", name, labels(s), strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
	}
	ours := [numFields]func(Sample) *float64{
		func(s Sample) *float64 { return s.Util }, func(s Sample) *float64 { return s.GRActive },
		func(s Sample) *float64 { return s.SMActive }, func(s Sample) *float64 { return s.FBUsed },
		func(s Sample) *float64 { return s.Power }, func(s Sample) *float64 { return s.EnergyMJ },
		func(s Sample) *float64 { return s.XIDs },
	}
	for f, get := range ours {
		typ := "gauge"
		if field(f) == fieldEnergy {
			typ = "counter"
		}
		write(fieldMetrics[f], typ, "a field the portal reads", func(s Sample) (float64, bool) {
			v := get(s)
			if v == nil {
				return 0, false
			}
			return *v, true
		})
	}
	for i, o := range others {
		write(o.name, o.typ, o.help, func(s Sample) (float64, bool) { return float64(40 + (i*7+s.Index)%50), true })
	}
	return b.Bytes()
})

// BenchmarkBaselineExpfmtParse is prometheus/common's own parse of a
// 1,000-GPU scrape: the yardstick for BenchmarkParseExporter.
func BenchmarkBaselineExpfmtParse(b *testing.B) {
	doc := clusterDoc()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(doc))
		if err != nil || len(fams) != 23 {
			b.Fatalf("%d families, %v", len(fams), err)
		}
	}
}

// BenchmarkParseExporter is the portal's parse of the same bytes into
// samples (expfmt underneath, plus cleaning and mapping).
func BenchmarkParseExporter(b *testing.B) {
	doc := clusterDoc()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseExporter(bytes.NewReader(doc), t0)
		if err != nil || len(p.Samples) != 1000 {
			b.Fatalf("%d samples, %v", len(p.Samples), err)
		}
	}
}

// BenchmarkFolderIngest pushes 1-second samples of a simulated 10,000-GPU
// fleet through Folder.Add, one sample per op; the target is ≥ 100,000
// samples/s on one core. heap-MiB is what the Folder holds for the fleet.
func BenchmarkFolderIngest(b *testing.B) {
	const gpus = 10_000
	// Eight polls of the fleet, replayed with a clock advancing one second
	// per round, so that values (and the energy counter) keep changing.
	var clock time.Time
	sim := NewSimulator(SimConfig{Seed: 2, Cluster: "fleet", Nodes: gpus / 8, GPUsPerNode: 8, Interval: time.Second,
		Profiles: SimProfiles{Busy: 0.6, Idle: 0.2, Bursty: 0.2}, Now: func() time.Time { return clock }})
	var polls [8][]Sample
	for i := range polls {
		clock = t0.Add(time.Duration(i) * time.Second)
		p, err := sim.Poll(context.Background())
		if err != nil || len(p.Samples) != gpus {
			b.Fatalf("%d samples, %v", len(p.Samples), err)
		}
		polls[i] = p.Samples
	}

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	f := NewFolder(FolderConfig{Interval: time.Second})
	for r := range 2 { // two rounds: every device has state and an open hour
		for _, s := range polls[r] {
			s.Time = t0.Add(time.Duration(r) * time.Second)
			f.Add(s)
		}
	}
	after := heap()
	held := float64(after-min(before, after)) / (1 << 20)
	if f.Devices() != gpus {
		b.Fatalf("%d devices", f.Devices())
	}

	b.ReportAllocs()
	b.ResetTimer()
	round, i := 2, 0
	start := time.Now()
	for range b.N {
		s := polls[round%len(polls)][i]
		s.Time = t0.Add(time.Duration(round) * time.Second)
		f.Add(s)
		if i++; i == gpus {
			i, round = 0, round+1
			if round%3600 == 0 { // the collector flushes complete hours
				f.Flush(t0.Add(time.Duration(round-2) * time.Second))
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "samples/s")
	b.ReportMetric(held, "heap-MiB")
	if f.Ignored() != 0 {
		b.Fatalf("%d samples ignored", f.Ignored())
	}
	runtime.KeepAlive(f)
}
