package handlers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestAllocationPageFigures follows telemetry from the samples to the page:
// samples → folder → stored rollups → allocation page, on each database.
// GPU 0 has one XID 79 that holds for over an hour (one event) and one
// implausible energy reading; GPU 1 runs in MIG mode; the block is 64 GPUs
// of which 8 are identified.
func TestAllocationPageFigures(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		ctx := t.Context()
		now := g.clock.Now()
		today := models.DateOf(now)
		a, errs, err := models.CreateAllocation(ctx, g.db, models.AllocationInput{OrganisationID: g.upstage.ID,
			ClusterID: g.cluster.ID, BlockKind: models.BlockCustom, GPUCount: 64, From: today.AddDays(-20).String(),
			To: today.AddDays(10).String(), OwnGPUs: true, Nodes: []string{"kt-gn001"}}, g.officer, now)
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		gpus := g.gpus[:8]
		fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: 15 * time.Second})
		start := now.Add(-2 * time.Hour)
		for i := range 8 * 60 {
			at := start.Add(time.Duration(i) * 15 * time.Second)
			energy := float64(i) * 15 * 800 * 1000 // 800 W
			for n, gpu := range gpus {
				s := dcgm.Sample{UUID: gpu.UUID, Node: gpu.Node, Index: gpu.Index, Model: gpu.Model, Time: at,
					Power: fptr(800), EnergyMJ: fptr(energy), XIDs: fptr(0), Util: fptr(50)}
				switch n {
				case 0:
					if i >= 10 {
						s.XIDs = fptr(79)
					}
					if i >= 100 { // the counter jumps and goes on from there
						s.EnergyMJ = fptr(energy + 1e15)
					}
				case 1: // MIG mode: no utilisation; two instances, one busy
					s.Util = nil
					fold.Add(dcgm.Sample{UUID: gpu.UUID, MIG: "1", Profile: "4g.90gb", Model: gpu.Model, Time: at, GRActive: fptr(1)})
					fold.Add(dcgm.Sample{UUID: gpu.UUID, MIG: "2", Profile: "3g.90gb", Model: gpu.Model, Time: at, GRActive: fptr(0)})
				}
				fold.Add(s)
			}
		}
		rs := append(fold.Flush(now), fold.Snapshot()...)
		if err := (models.TelemetryStore{DB: g.db}).UpsertRollups(ctx, g.cluster.ID, rs, now); err != nil {
			t.Fatal(err)
		}

		officer := g.client()
		officer.signInDemo("demo-officer")
		doc := officer.page(officer.get("/allocations/" + itoa(a.ID) + "?from=" + today.String() + "&to=" + today.String()))
		text := func(sel string) string { return strings.TrimSpace(doc.Find(sel).First().Text()) }
		// 14 hours of today (KST) so far, for 64 GPUs: 8 identified, 56 not.
		if got := text(`[data-testid="usage-expected"]`); !strings.Contains(got, "896.0") {
			t.Errorf("expected: %q", got)
		}
		if got := text(`[data-testid="usage-expected-split"]`); !strings.Contains(got, "112.0") || !strings.Contains(got, "56") || !strings.Contains(got, "784.0") {
			t.Errorf("expected, split: %q", got)
		}
		// Observed: 8 GPUs × (2 h − 15 s), each counted once (GPU 1's instances are not added).
		observed := 8 * (7200 - 15) / 3600.0
		if got, want := text(`[data-testid="usage-coverage"]`), gpuPctOf(observed/896); !strings.HasPrefix(got, want) {
			t.Errorf("coverage %q, want %s…", got, want)
		}
		if got, want := text(`[data-testid="usage-coverage-named"]`), gpuPctOf(observed/112); got != want {
			t.Errorf("coverage of the identified %q, want %s", got, want)
		}
		if got := text(`[data-testid="usage-xids"]`); got != "1" {
			t.Errorf("XID events %q, want 1 (one XID 79 held for two hours)", got)
		}
		if got := text(`[data-testid="usage-anomalies"]`); !strings.HasPrefix(got, "1") {
			t.Errorf("energy anomalies %q, want 1", got)
		}
		// 800 W each for the observed time: the spike is not in it.
		if got, want := text(`[data-testid="usage-energy"]`), strings.TrimSuffix(gpuPctOf(observed*0.8/100), "%")+" kWh"; got != want {
			t.Errorf("energy %q, want %q", got, want)
		}
		if got := text(`[data-testid="usage-mig"]`); !strings.HasPrefix(got, "2") {
			t.Errorf("MIG instances %q", got)
		}
		row := doc.Find(`[data-testid="allocation-gpu"][data-uuid="` + gpus[0].UUID + `"]`)
		if x, an := strings.TrimSpace(row.Find(`[data-testid="gpu-xids"]`).Text()), strings.TrimSpace(row.Find(`[data-testid="gpu-anomalies"]`).Text()); x != "1" || an != "1" {
			t.Errorf("GPU 0: XID %q, anomalies %q", x, an)
		}
		mig := doc.Find(`[data-testid="allocation-gpu"][data-uuid="` + gpus[1].UUID + `"]`)
		if got := strings.TrimSpace(mig.Find(`[data-testid="gpu-util"]`).Text()); got != gpuPctOf(4.0/7) {
			t.Errorf("MIG GPU utilisation %q, want 4/7 of the GPU", got)
		}
		insts := doc.Find(`[data-testid="allocation-gpu-instance"][data-uuid="` + gpus[1].UUID + `"]`)
		if insts.Length() != 2 || !strings.Contains(insts.First().Text(), "4g.90gb") {
			t.Errorf("%d instance rows under the MIG GPU: %q", insts.Length(), insts.Text())
		}
		if got := strings.TrimSpace(insts.First().Find(`[data-testid="gpu-observed"]`).Text()); got != strings.TrimSpace(mig.Find(`[data-testid="gpu-observed"]`).Text()) {
			t.Errorf("instance observed %q, GPU's %q", got, mig.Find(`[data-testid="gpu-observed"]`).Text())
		}
	})
}

func fptr(v float64) *float64 { return &v }

// gpuPctOf renders a share in percent as the page does.
func gpuPctOf(share float64) string { return strconv.FormatFloat(share*100, 'f', 1, 64) + "%" }

// TestClusterStatusFlagsDuplicateUUIDs: a GPU UUID reported by a second
// cluster is refused there and flagged on both clusters' status.
func TestClusterStatusFlagsDuplicateUUIDs(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		g := newGPUApp(t, kind)
		ctx := t.Context()
		now := g.clock.Now()
		other := &models.Cluster{Name: "nhn-b200-2", Provider: "NHN Cloud", Region: "KR-Pangyo", GPUModel: "NVIDIA B200",
			GPUCount: 8, SourceKind: models.SourceSimulator, PollSeconds: 15, SimSeed: 9}
		if _, err := models.SaveCluster(ctx, g.db, nil, other, false, g.officer, now); err != nil {
			t.Fatal(err)
		}
		dup := g.gpus[3]
		s := models.TelemetryStore{DB: g.db}
		h := now.Truncate(time.Hour).Add(-time.Hour)
		rs := []dcgm.Rollup{
			{Key: dup.UUID, UUID: dup.UUID, Hour: h, Node: "nhn-gn001", Model: "NVIDIA B200", ObservedSeconds: 3600, Samples: 240},
			{Key: "GPU-nhn-own", UUID: "GPU-nhn-own", Hour: h, Node: "nhn-gn001", Model: "NVIDIA B200", ObservedSeconds: 3600, Samples: 240},
		}
		if err := s.UpsertRollups(ctx, other.ID, rs, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordGPUs(ctx, other.ID, []dcgm.GPUInfo{{UUID: dup.UUID, Node: "nhn-gn001", Model: "NVIDIA B200"}}, now); err != nil {
			t.Fatal(err)
		}
		if stored, _ := models.ClusterRollupsSince(ctx, g.db, other.ID, h); len(stored) != 1 || stored[0].UUID != "GPU-nhn-own" {
			t.Errorf("the second cluster's rows: %+v", stored)
		}

		auditor := g.client()
		auditor.signInDemo("demo-auditor")
		doc := auditor.page(auditor.get("/gpus/clusters"))
		for _, id := range []uint{g.cluster.ID, other.ID} {
			row := doc.Find(`[data-testid="cluster-row"][data-id="` + itoa(id) + `"]`)
			if row.Find(`[data-testid="cluster-conflicts"]`).Length() != 1 {
				t.Errorf("cluster %d's row is not flagged", id)
			}
		}
		c := doc.Find(`[data-testid="gpu-conflict"]`)
		owner, _ := c.Attr("data-owner")
		refused, _ := c.Attr("data-refused")
		if c.Length() != 1 || owner != itoa(g.cluster.ID) || refused != itoa(other.ID) || !strings.Contains(c.Text(), dup.UUID) ||
			!strings.Contains(c.Text(), "nhn-gn001") {
			t.Errorf("conflict rows %d: %q (owner %s, refused %s)", c.Length(), c.Text(), owner, refused)
		}
	})
}
