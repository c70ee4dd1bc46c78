package models_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestCompactRollups: compacting hourly rollups older than the retention
// into the daily ones changes no team-month, programme or allocation
// figure, removes the hourly rows of the days before the cutoff only, and
// compacting again changes nothing.
func TestCompactRollups(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		var allocs []*models.Allocation
		for _, a := range []struct {
			org   *models.Organisation
			gpus  []int
			from  string
			to    string
			count int
		}{
			{f.teamA, []int{0, 1}, "2026-11-28", "2026-12-31", 2},
			{f.teamA, []int{2}, "2026-12-11", "2026-12-31", 1},
			{f.teamB, []int{4}, "2026-11-28", "2026-12-20", 2},
		} {
			var uuids []string
			for _, g := range a.gpus {
				uuids = append(uuids, f.gpus[g].UUID)
			}
			got, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: a.org.ID, ClusterID: f.cluster.ID,
				BlockKind: models.BlockCustom, GPUCount: a.count, From: a.from, To: a.to, OwnGPUs: true, UUIDs: uuids})
			if err != nil {
				t.Fatalf("allocate: %v %v", err, errs)
			}
			allocs = append(allocs, got)
		}
		// Three hours on four days of November and December, written twice
		// (the second write the hour's larger totals, as the collector's
		// running totals are), with varied figures.
		days := []time.Time{time.Date(2026, 11, 28, 0, 0, 0, 0, time.FixedZone("KST", 9*3600)), time.Date(2026, 11, 30, 0, 0, 0, 0, time.FixedZone("KST", 9*3600)),
			time.Date(2026, 12, 1, 0, 0, 0, 0, time.FixedZone("KST", 9*3600)), time.Date(2026, 12, 11, 0, 0, 0, 0, time.FixedZone("KST", 9*3600))}
		for pass := 1; pass <= 2; pass++ {
			var rows []models.GPURollup
			for di, d := range days {
				for h := 0; h < 3; h++ {
					for _, g := range []int{0, 1, 2, 4} {
						obs := float64(1200*pass + 100*g + 10*h + di)
						r := rollup(f.gpus[g].UUID, f.gpus[g].UUID, d.Add(time.Duration(h)*time.Hour), obs, obs/3, obs*(40+float64(g)),
							obs*410.5, 1000*float64(pass+g))
						r.ClusterID, r.XIDCount, r.BusyThresholdPct, r.Model = f.cluster.ID, g, 5, f.gpus[g].Model
						rows = append(rows, r)
					}
				}
			}
			if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
				t.Fatal(err)
			}
		}

		// The daily rows moved by differences are the daily rows summed afresh.
		dayRows := func() map[string]models.GPURollupDay {
			var ds []models.GPURollupDay
			if err := db.Find(&ds).Error; err != nil {
				t.Fatal(err)
			}
			out := map[string]models.GPURollupDay{}
			for _, d := range ds {
				d.UpdatedAt = time.Time{}
				out[d.DeviceKey+"|"+d.Day] = d
			}
			return out
		}
		moved := dayRows()
		if err := models.RebuildRollupDays(ctx, db, models.NewDate(2026, 11, 28), models.NewDate(2026, 12, 11), gpuNow); err != nil {
			t.Fatal(err)
		}
		for k, d := range dayRows() {
			m := moved[k]
			if m.Hours != d.Hours || !approx(m.ObservedS, d.ObservedS) || !approx(m.UtilSum, d.UtilSum) || !approx(m.EnergyJ, d.EnergyJ) ||
				m.MaxFBMiB != d.MaxFBMiB || m.XIDCount != d.XIDCount || m.Samples != d.Samples || m.Node != d.Node {
				t.Errorf("day %s moved by differences %+v, summed afresh %+v", k, m, d)
			}
		}
		if len(moved) != 16 {
			t.Errorf("%d daily rows, want 16", len(moved))
		}

		type figures struct {
			months   map[string][]models.TeamMonth
			programm map[string]models.TeamMonth
			usage    []models.Usage
			days     map[string]int
		}
		now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		read := func() figures {
			t.Helper()
			fig := figures{months: map[string][]models.TeamMonth{}, programm: map[string]models.TeamMonth{}, days: map[string]int{}}
			for _, ms := range []string{"2026-11", "2026-12"} {
				m, _ := models.ParseMonth(ms)
				for _, org := range []*models.Organisation{f.teamA, f.teamB} {
					tm, err := models.TeamMonthUsage(ctx, db, org, m, now)
					if err != nil {
						t.Fatal(err)
					}
					tm.Org = nil
					fig.months[ms] = append(fig.months[ms], tm)
					ds, err := models.TeamMonthDays(ctx, db, org.ID, m)
					if err != nil {
						t.Fatal(err)
					}
					fig.days[ms] += len(ds)
				}
				_, total, err := models.ProgrammeMonth(ctx, db, m, now)
				if err != nil {
					t.Fatal(err)
				}
				total.Org = nil
				fig.programm[ms] = total
			}
			for _, a := range allocs {
				from, to := a.Span()
				u, err := models.AllocationUsage(ctx, db, a.ID, from, to, now)
				if err != nil {
					t.Fatal(err)
				}
				fig.usage = append(fig.usage, u)
			}
			return fig
		}
		same := func(t *testing.T, a, b models.Usage) {
			t.Helper()
			for _, c := range []struct {
				name string
				x, y float64
			}{
				{"expected", a.ExpectedSeconds, b.ExpectedSeconds}, {"observed", a.ObservedSeconds, b.ObservedSeconds},
				{"busy", a.ActiveSeconds, b.ActiveSeconds}, {"util", a.UtilSum, b.UtilSum}, {"energy", a.EnergyJ, b.EnergyJ},
				{"max FB", a.MaxFBMiB, b.MaxFBMiB}, {"XIDs", float64(a.XIDCount), float64(b.XIDCount)},
				{"samples", float64(a.Samples), float64(b.Samples)}, {"devices", float64(a.Devices), float64(b.Devices)},
				{"threshold", a.BusyThresholdMax, b.BusyThresholdMax},
			} {
				if !approx(c.x, c.y) {
					t.Errorf("%s: %v, before compaction %v", c.name, c.x, c.y)
				}
			}
		}
		hourly := func() (n int64) {
			db.Model(&models.GPURollup{}).Count(&n)
			return n
		}
		before := read()
		if before.usage[0].ObservedSeconds == 0 || before.programm["2026-11"].Usage.ObservedSeconds == 0 {
			t.Fatalf("nothing to compact: %+v", before.usage[0])
		}
		all := hourly()
		for _, tc := range []struct {
			name   string
			now    time.Time
			months int
			days   int   // days compacted
			left   int64 // hourly rows left
		}{
			{"retention off", now, 0, 0, all},
			{"nothing old enough", time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), 1, 0, all},
			{"November", time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), 1, 2, all / 2},
			{"December too", time.Date(2027, 2, 5, 0, 0, 0, 0, time.UTC), 1, 2, 0},
			{"again: idempotent", now, 1, 0, 0},
		} {
			c, err := models.CompactRollups(ctx, db, tc.months, tc.now)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if c.Days != tc.days || hourly() != tc.left || c.Kept != 0 {
				t.Errorf("%s: %+v, %d hourly rows left; want %d days, %d rows left", tc.name, c, hourly(), tc.days, tc.left)
			}
			after := read()
			for ms, tms := range before.months {
				for i := range tms {
					same(t, after.months[ms][i].Usage, tms[i].Usage)
					if after.months[ms][i].AllocatedSeconds != tms[i].AllocatedSeconds {
						t.Errorf("%s %s: allocated %v, was %v", tc.name, ms, after.months[ms][i].AllocatedSeconds, tms[i].AllocatedSeconds)
					}
				}
				same(t, after.programm[ms].Usage, before.programm[ms].Usage)
				if after.days[ms] != before.days[ms] {
					t.Errorf("%s %s: %d GPU-days, was %d", tc.name, ms, after.days[ms], before.days[ms])
				}
			}
			for i := range before.usage {
				same(t, after.usage[i], before.usage[i])
			}
		}
		if got := models.RetentionCutoff(time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), 3); got != models.NewDate(2026, 10, 1) {
			t.Errorf("cutoff %v, want 2026-10-01", got)
		}
	})
}

// TestGPUOwnersCache: the collector's memory of which GPUs are a cluster's
// never lets another cluster's rows in, and skips rewriting a GPU's record
// only while nothing about it changed and its last write is recent.
func TestGPUOwnersCache(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		s := models.TelemetryStore{DB: db, Owners: &models.GPUOwners{}}
		g := f.gpus[0] // the B200 cluster's
		hour := gpuNow.Truncate(time.Hour)
		write := func(cluster uint, at time.Time) {
			t.Helper()
			if err := s.UpsertRollups(ctx, cluster, []dcgm.Rollup{{Key: g.UUID, UUID: g.UUID, Hour: hour, Node: g.Node, Model: g.Model,
				ObservedSeconds: 60}}, at); err != nil {
				t.Fatal(err)
			}
		}
		rowsOf := func(cluster uint) (n int64) {
			db.Model(&models.GPURollup{}).Where("uuid = ? AND cluster_id = ?", g.UUID, cluster).Count(&n)
			return n
		}
		// Remembered as the B200 cluster's; the H100 cluster's rows of it are
		// still refused and the conflict recorded, before and after.
		write(f.cluster.ID, gpuNow)
		write(f.hCluster.ID, gpuNow)
		write(f.cluster.ID, gpuNow.Add(time.Minute))
		write(f.hCluster.ID, gpuNow.Add(time.Minute))
		var conflicts int64
		db.Model(&models.GPUConflict{}).Where("uuid = ? AND cluster_id = ?", g.UUID, f.hCluster.ID).Count(&conflicts)
		if rowsOf(f.cluster.ID) != 1 || rowsOf(f.hCluster.ID) != 0 || conflicts != 1 {
			t.Errorf("rows: %d of the owner, %d of the other cluster, %d conflicts; want 1, 0, 1",
				rowsOf(f.cluster.ID), rowsOf(f.hCluster.ID), conflicts)
		}

		lastSeen := func() (time.Time, string) {
			var got models.GPU
			if err := db.Where("uuid = ?", g.UUID).First(&got).Error; err != nil {
				t.Fatal(err)
			}
			return got.LastSeen.UTC(), got.Node
		}
		// Unchanged records are also written in the GPU's own minute of
		// every five (models.SeenSlot): start where the steps below that
		// expect no write fall outside it.
		t0 := gpuNow.Add(time.Hour)
		for models.SeenSlot(g.UUID, t0.Add(time.Minute)) || models.SeenSlot(g.UUID, t0.Add(3*time.Minute)) {
			t0 = t0.Add(time.Minute)
		}
		for _, c := range []struct {
			name     string
			at       time.Duration
			node     string
			wantSeen time.Duration // after t0
		}{
			{"first record", 0, g.Node, 0},
			{"a minute on, unchanged: not rewritten", time.Minute, g.Node, 0},
			{"node changed: rewritten", 2 * time.Minute, "node-moved", 2 * time.Minute},
			{"unchanged again", 3 * time.Minute, "node-moved", 2 * time.Minute},
			{"SeenEvery after the last write", 2*time.Minute + models.SeenEvery, "node-moved", 2*time.Minute + models.SeenEvery},
		} {
			if err := s.RecordGPUs(ctx, f.cluster.ID, []dcgm.GPUInfo{{UUID: g.UUID, Node: c.node, Model: g.Model, Index: g.Index}},
				t0.Add(c.at)); err != nil {
				t.Fatal(err)
			}
			if seen, node := lastSeen(); !seen.Equal(t0.Add(c.wantSeen)) || node != c.node {
				t.Errorf("%s: last seen %v on %s, want %v on %s", c.name, seen, node, t0.Add(c.wantSeen), c.node)
			}
		}
	})
}

// TestCompactRollupsKeepsDowntimeHours: the hours a downtime window of a
// GPU's cluster touches keep their hourly rows (the telemetry received
// during downtime is read from them), so the figures, that one included,
// are the same after compaction; the other hours are compacted.
func TestCompactRollupsKeepsDowntimeHours(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-11-01", To: "2026-11-30", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		kst := time.FixedZone("KST", 9*3600)
		var rows []models.GPURollup
		for h := 0; h < 6; h++ {
			for _, g := range []int{0, 1} {
				r := rollup(f.gpus[g].UUID, f.gpus[g].UUID, time.Date(2026, 11, 10, 8+h, 0, 0, 0, kst), 3600, 1800, 3600*50, 3600*400, 1000)
				r.ClusterID, r.BusyThresholdPct, r.Model = f.cluster.ID, 5, f.gpus[g].Model
				rows = append(rows, r)
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		// Down 10:30–12:00 KST: the hours 10 and 11 are touched.
		if _, errs, err := models.CreateDowntime(ctx, db, models.DowntimeInput{ClusterID: f.cluster.ID, Start: "2026-11-10T10:30",
			End: "2026-11-10T12:00", Kind: models.DowntimeMaintenance, Reason: "work"}, f.officer, gpuNow); err != nil {
			t.Fatalf("downtime: %v %v", err, errs)
		}
		now := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
		from, to := a.Span()
		before, err := models.AllocationUsage(ctx, db, a.ID, from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		if !approx(before.ObservedDownSeconds, 2*1.5*3600) {
			t.Fatalf("observed during downtime %v s, want %v", before.ObservedDownSeconds, 2*1.5*3600)
		}
		c, err := models.CompactRollups(ctx, db, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		var left []models.GPURollup
		if err := db.Order("hour, uuid").Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		if c.Days != 1 || len(left) != 4 {
			t.Fatalf("%+v, %d hourly rows left; want 1 day compacted and the 4 rows of the 2 hours down", c, len(left))
		}
		for _, r := range left {
			if h := r.Hour.In(kst).Hour(); h != 10 && h != 11 {
				t.Errorf("hour %d kept: only the hours down are", h)
			}
		}
		after, err := models.AllocationUsage(ctx, db, a.ID, from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			x, y float64
		}{
			{"observed", after.ObservedSeconds, before.ObservedSeconds}, {"busy", after.ActiveSeconds, before.ActiveSeconds},
			{"observed during downtime", after.ObservedDownSeconds, before.ObservedDownSeconds},
			{"expected", after.ExpectedSeconds, before.ExpectedSeconds}, {"down", after.DownSeconds, before.DownSeconds},
		} {
			if !approx(c.x, c.y) {
				t.Errorf("%s: %v after compaction, %v before", c.name, c.x, c.y)
			}
		}
		if again, err := models.CompactRollups(ctx, db, 1, now); err != nil || again.Days != 0 {
			t.Errorf("again: %+v, %v; want nothing to do", again, err)
		}
	})
}
