package models_test

import (
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestTeamMonth: a team's month sums its allocations in the month, the
// programme sums the teams, the per-GPU days are the team's GPUs only, each
// within its allocation's period.
func TestTeamMonth(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		alloc := func(org *models.Organisation, n int, from, to string, uuids ...string) *models.Allocation {
			a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: org.ID, ClusterID: f.cluster.ID,
				BlockKind: models.BlockCustom, GPUCount: n, From: from, To: to, OwnGPUs: true, UUIDs: uuids})
			if err != nil {
				t.Fatalf("allocate: %v %v", err, errs)
			}
			return a
		}
		// Team A: two GPUs all December, one GPU from 11 December; team B: one GPU all December.
		alloc(f.teamA, 2, "2026-12-01", "2026-12-31", f.gpus[0].UUID, f.gpus[1].UUID)
		alloc(f.teamA, 1, "2026-12-11", "2026-12-31", f.gpus[2].UUID)
		alloc(f.teamB, 1, "2026-12-01", "2026-12-31", f.gpus[4].UUID)
		// Every GPU observed 00:00–02:00 KST on 1 and 11 December, half busy, 50 %, 1 kWh an hour.
		var rows []models.GPURollup
		for _, day := range []int{1, 11} {
			for h := decKST(day, 0, 0); h.Before(decKST(day, 2, 0)); h = h.Add(time.Hour) {
				for _, g := range []int{0, 1, 2, 4} {
					r := rollup(f.gpus[g].UUID, f.gpus[g].UUID, h, 3600, 1800, 3600*50, 3.6e6, 100)
					r.ClusterID, r.XIDCount, r.BusyThresholdPct = f.cluster.ID, 1, 5
					rows = append(rows, r)
				}
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		m, err := models.ParseMonth("2026-12")
		if err != nil {
			t.Fatal(err)
		}
		now := decKST(20, 0, 0)
		a, err := models.TeamMonthUsage(ctx, db, f.teamA, m, now)
		if err != nil {
			t.Fatal(err)
		}
		// GPU 2 on 1 December is outside its allocation: not team A's.
		obsA := 2*2*2*3600.0 + 1*2*3600
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"allocations", float64(a.Allocations), 2},
			{"allocated GPU-hours", a.AllocatedGPUHours(), 2*31*24 + 1*21*24},
			{"expected GPU-hours", a.Usage.ExpectedGPUHours(), 2*19*24 + 1*9*24},
			{"observed", a.Usage.ObservedSeconds, obsA},
			{"busy", a.Usage.ActiveSeconds, obsA / 2},
			{"idle", a.Usage.IdleGPUHours(), obsA / 2 / 3600},
			{"mean utilisation", a.Usage.MeanUtil(), 50},
			{"energy kWh", a.Usage.EnergyKWh(), obsA / 3600},
			{"XID events", float64(a.Usage.XIDCount), obsA / 3600},
			{"threshold", a.Usage.BusyThresholdMax, 5},
		} {
			if !approx(c.got, c.want) {
				t.Errorf("team A %s = %v, want %v", c.name, c.got, c.want)
			}
		}
		teams, total, err := models.ProgrammeMonth(ctx, db, m, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(teams) != 2 {
			t.Fatalf("%d teams, want 2", len(teams))
		}
		var sumObs, sumExp float64
		for _, tm := range teams {
			sumObs += tm.Usage.ObservedSeconds
			sumExp += tm.Usage.ExpectedSeconds
			if tm.Org.ID == f.teamB.ID && tm.Usage.ObservedSeconds != 4*3600 {
				t.Errorf("team B observed %v, want 4 h", tm.Usage.ObservedSeconds)
			}
		}
		if total.Usage.ObservedSeconds != sumObs || !approx(total.Usage.ExpectedSeconds, sumExp) || total.Allocations != 3 {
			t.Errorf("programme: observed %v expected %v allocations %d; teams %v %v", total.Usage.ObservedSeconds,
				total.Usage.ExpectedSeconds, total.Allocations, sumObs, sumExp)
		}
		days, err := models.TeamMonthDays(ctx, db, f.teamA.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		// 1 December: GPUs 0 and 1; 11 December: GPUs 0, 1 and 2. Never team B's GPU 4.
		if len(days) != 5 {
			t.Fatalf("%d GPU-days, want 5: %+v", len(days), days)
		}
		for _, d := range days {
			if d.UUID == f.gpus[4].UUID || d.UUID == f.gpus[2].UUID && d.Day == "2026-12-01" {
				t.Errorf("GPU-day not team A's: %+v", d)
			}
			if d.ObservedS != 7200 || d.ActiveS != 3600 || d.MeanUtil() != 50 || d.BusyMax != 5 {
				t.Errorf("GPU-day %+v", d)
			}
		}
	})
}

// TestWorkloadBreakdown: workload time stored with the rollups breaks an
// allocation's and a team-month's time down by job or pod, the GPUs and
// period of the allocation only.
func TestWorkloadBreakdown(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		s := models.TelemetryStore{DB: db}
		var rs []dcgm.Rollup
		for _, g := range []int{0, 1, 4} { // GPU 4 is not the team's
			for _, h := range []time.Time{decKST(1, 10, 0), decKST(1, 11, 0), decKST(30, 10, 0).AddDate(0, 0, 5)} {
				rs = append(rs, dcgm.Rollup{Key: f.gpus[g].UUID, UUID: f.gpus[g].UUID, Hour: h, Node: f.gpus[g].Node, Model: f.gpus[g].Model,
					ObservedSeconds: 3600, ActiveSeconds: 3000, Workloads: map[string]dcgm.WorkloadTime{
						"slurm:1": {ObservedSeconds: 2400, ActiveSeconds: 2400}, "k8s:ns/p": {ObservedSeconds: 1200, ActiveSeconds: 600}}})
			}
		}
		if err := s.UpsertRollups(ctx, f.cluster.ID, rs, gpuNow); err != nil {
			t.Fatal(err)
		}
		// Written twice: replaced, not added.
		if err := s.UpsertRollups(ctx, f.cluster.ID, rs, gpuNow); err != nil {
			t.Fatal(err)
		}
		ws, err := models.AllocationWorkloads(ctx, db, a, "", decKST(1, 0, 0), decKST(31, 0, 0).Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 2 || ws[0].Workload != "slurm:1" || ws[0].GPUs != 2 || ws[0].ObservedS != 2*2*2400 || ws[0].ActiveS != 2*2*2400 ||
			ws[1].Workload != "k8s:ns/p" || ws[1].ObservedS != 2*2*1200 || ws[1].ActiveS != 2*2*600 {
			t.Errorf("allocation workloads %+v", ws)
		}
		one, err := models.AllocationWorkloads(ctx, db, a, f.gpus[1].UUID, decKST(1, 0, 0), decKST(2, 0, 0))
		if err != nil || len(one) != 2 || one[0].GPUs != 1 || one[0].ObservedS != 2*2400 {
			t.Errorf("one GPU's workloads %+v, %v", one, err)
		}
		m, _ := models.ParseMonth("2026-12")
		tm, err := models.TeamMonthWorkloads(ctx, db, f.teamA.ID, m)
		if err != nil || len(tm) != 2 || tm[0].ObservedS != ws[0].ObservedS || tm[1].ActiveS != ws[1].ActiveS {
			t.Errorf("team-month workloads %+v, %v", tm, err)
		}
		other, err := models.TeamMonthWorkloads(ctx, db, f.teamB.ID, m)
		if err != nil || len(other) != 0 {
			t.Errorf("team B's workloads %+v, %v", other, err)
		}

		// GPU 1 fails and GPU 2 replaces it at 11:00 KST on 1 December: the
		// breakdown counts GPU 1's 10:00 hour and GPU 2's 11:00 hour, each
		// while it belonged to the allocation, and neither outside it.
		if errs, err := models.ReplaceAllocationGPU(ctx, db, a.ID, models.GPUReplacement{Old: f.gpus[1].UUID, New: f.gpus[2].UUID,
			At: "2026-12-01 11:00", Reason: "XID 79"}, f.officer, gpuNow); err != nil {
			t.Fatalf("replace: %v %v", err, errs)
		}
		rs = nil
		for _, h := range []time.Time{decKST(1, 10, 0), decKST(1, 11, 0)} {
			rs = append(rs, dcgm.Rollup{Key: f.gpus[2].UUID, UUID: f.gpus[2].UUID, Hour: h, Node: f.gpus[2].Node, Model: f.gpus[2].Model,
				ObservedSeconds: 3600, ActiveSeconds: 3600, Workloads: map[string]dcgm.WorkloadTime{"slurm:2": {ObservedSeconds: 3600, ActiveSeconds: 3600}}})
		}
		if err := s.UpsertRollups(ctx, f.cluster.ID, rs, gpuNow); err != nil {
			t.Fatal(err)
		}
		ws, err = models.AllocationWorkloads(ctx, db, a, "", decKST(1, 0, 0), decKST(2, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]models.WorkloadUsage{}
		for _, w := range ws {
			got[w.Workload] = w
		}
		// slurm:1: GPU 0 at 10:00 and 11:00, GPU 1 at 10:00 only; slurm:2: GPU 2 at 11:00 only.
		if w := got["slurm:1"]; w.GPUs != 2 || w.ObservedS != 3*2400 {
			t.Errorf("slurm:1 after the replacement %+v, want 2 GPUs and 3 hours of 2,400 s", w)
		}
		if w := got["slurm:2"]; w.GPUs != 1 || w.ObservedS != 3600 {
			t.Errorf("slurm:2 of the replacing GPU %+v, want its one hour in the allocation", w)
		}
		tm, err = models.TeamMonthWorkloads(ctx, db, f.teamA.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tm {
			if w.Workload == "slurm:2" && w.ObservedS != 3600 {
				t.Errorf("team-month slurm:2 %+v, want the one hour", w)
			}
		}
	})
}

// TestTeamMonthMembership: a GPU counts toward its team's month only while
// it belonged to the allocation (joined_at to left_at): in the month's
// figures, its expected time and the per-GPU days of the export.
func TestTeamMonthMembership(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 3, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// GPU 1 fails and GPU 2 replaces it at 12:00 KST on 10 December; GPU 3 is added on 20 December.
		if errs, err := models.ReplaceAllocationGPU(ctx, db, a.ID, models.GPUReplacement{Old: f.gpus[1].UUID, New: f.gpus[2].UUID,
			At: "2026-12-10 12:00", Reason: "XID 79"}, f.officer, gpuNow); err != nil {
			t.Fatalf("replace: %v %v", err, errs)
		}
		if errs, err := models.AddAllocationGPUs(ctx, db, a.ID, models.GPUAddition{UUIDs: []string{f.gpus[3].UUID},
			At: "2026-12-20 00:00", Reason: "supplied"}, f.officer, gpuNow); err != nil {
			t.Fatalf("add: %v %v", err, errs)
		}
		// Every GPU observed 11:00–14:00 KST on 5, 10, 15 and 25 December.
		days := []int{5, 10, 15, 25}
		var rows []models.GPURollup
		for _, day := range days {
			for h := decKST(day, 11, 0); h.Before(decKST(day, 14, 0)); h = h.Add(time.Hour) {
				for g := range 4 {
					r := rollup(f.gpus[g].UUID, f.gpus[g].UUID, h, 3600, 3600, 3600*80, 3.6e6, 100)
					r.ClusterID, r.BusyThresholdPct = f.cluster.ID, 5
					rows = append(rows, r)
				}
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		m, _ := models.ParseMonth("2026-12")
		tm, err := models.TeamMonthUsage(ctx, db, f.teamA, m, decKST(31, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		const day = 86400.0
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			// GPU 0: 4 days × 3 h; GPU 1: 3 h on the 5th, 11:00–12:00 on the 10th;
			// GPU 2: 12:00–14:00 on the 10th, 3 h on the 15th and 25th; GPU 3: the 25th.
			{"observed GPU-hours", tm.Usage.ObservedGPUHours(), 12 + 4 + 8 + 3},
			{"busy GPU-hours", tm.Usage.BusyGPUHours(), 27},
			{"energy kWh", tm.Usage.EnergyKWh(), 27},
			// Named: GPU 0 30 days, GPU 1 9.5, GPU 2 20.5, GPU 3 11 (to now, 31 December 00:00 KST).
			{"expected named GPU-seconds", tm.Usage.ExpectedNamedSeconds, (30 + 9.5 + 20.5 + 11) * day},
			{"expected GPU-seconds (the block of 3)", tm.Usage.ExpectedSeconds, 3 * 30 * day},
		} {
			if !approx(c.got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}

		gpuDays, err := models.TeamMonthDays(ctx, db, f.teamA.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, d := range gpuDays {
			got[d.UUID] = append(got[d.UUID], d.Day)
		}
		for _, c := range []struct {
			gpu  int
			days []string
		}{
			{0, []string{"2026-12-05", "2026-12-10", "2026-12-15", "2026-12-25"}},
			{1, []string{"2026-12-05", "2026-12-10"}}, // left on the 10th
			{2, []string{"2026-12-10", "2026-12-15", "2026-12-25"}},
			{3, []string{"2026-12-25"}}, // joined on the 20th
		} {
			if !slices.Equal(got[f.gpus[c.gpu].UUID], c.days) {
				t.Errorf("GPU %d's days in the export: %v, want %v", c.gpu, got[f.gpus[c.gpu].UUID], c.days)
			}
		}
	})
}
