package models_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// Tests of the figures an audit checks, as stored and read back: expected
// time, MIG instances, XID events, energy anomalies, a UUID in two clusters,
// a GPU without a model.

// decKST is 2026-12-dd hh:mm KST.
func decKST(dd, hh, mm int) time.Time {
	return time.Date(2026, 12, dd, hh, mm, 0, 0, time.FixedZone("KST", 9*3600)).UTC()
}

func TestExpectedGPUHours(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		// A block of 1,000 H-series GPUs for December, four of them identified.
		var uuids []string
		for _, g := range f.hGPUs {
			uuids = append(uuids, g.UUID)
		}
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.hCluster.ID,
			BlockKind: models.BlockHSeries, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true, UUIDs: uuids})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// Each identified GPU fully observed from 2026-12-01 00:00 KST to 06:00,
		// with an XID event and an energy anomaly in each hour.
		var rows []models.GPURollup
		for h := decKST(1, 0, 0); h.Before(decKST(1, 6, 0)); h = h.Add(time.Hour) {
			for _, u := range uuids {
				r := rollup(u, u, h, 3600, 1800, 3600*40, 3600*500, 1000)
				r.ClusterID, r.XIDCount, r.EnergyAnomalies = f.hCluster.ID, 1, 1
				rows = append(rows, r)
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		const observed = 4 * 6 * 3600.0
		month := [2]time.Time{decKST(1, 0, 0), decKST(31, 0, 0).Add(24 * time.Hour)}
		for _, tc := range []struct {
			name     string
			from, to time.Time
			now      time.Time
			hours    float64 // expected hours per GPU
			observed float64
		}{
			// December showed 46,080 expected hours when 20 minutes old.
			// (The rows say the first hour was observed whole: only that hour is read.)
			{"the month, 20 minutes into it", month[0], month[1], decKST(1, 0, 20), 20 / 60.0, 4 * 3600},
			{"the month, 6 h 20 min into it", month[0], month[1], decKST(1, 6, 20), 6 + 20/60.0, observed},
			// At 06:15 the day's range expected 24 hours of every GPU.
			{"the day at 06:15", decKST(1, 0, 0), decKST(2, 0, 0), decKST(1, 6, 15), 6.25, observed},
			{"the month, once over", month[0], month[1], decKST(31, 0, 0).Add(48 * time.Hour), 31 * 24, observed},
			{"a range not begun", decKST(10, 0, 0), decKST(11, 0, 0), decKST(1, 6, 15), 0, 0},
			{"a range wider than the period is clipped", decKST(1, 0, 0).Add(-72 * time.Hour), decKST(3, 0, 0), decKST(20, 0, 0), 48, observed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := models.AllocationUsage(ctx, db, a.ID, tc.from, tc.to, tc.now)
				if err != nil {
					t.Fatal(err)
				}
				checks := []struct {
					name      string
					got, want float64
				}{
					{"allocated", float64(u.Allocated), 1000},
					{"identified", float64(u.GPUs), 4},
					{"not identified", float64(u.Unnamed()), 996},
					{"expected", u.ExpectedSeconds, 1000 * tc.hours * 3600},
					{"expected of the identified", u.ExpectedNamedSeconds, 4 * tc.hours * 3600},
					{"expected of the others", u.ExpectedUnnamedSeconds(), 996 * tc.hours * 3600},
					{"observed", u.ObservedSeconds, tc.observed},
				}
				if tc.hours > 0 {
					checks = append(checks,
						struct {
							name      string
							got, want float64
						}{"coverage of the block", u.Coverage(), tc.observed / (1000 * tc.hours * 3600)},
						struct {
							name      string
							got, want float64
						}{"coverage of the identified", u.NamedCoverage(), tc.observed / (4 * tc.hours * 3600)})
				} else if u.Coverage() != 0 || u.NamedCoverage() != 0 {
					t.Errorf("coverage %v / %v with nothing expected", u.Coverage(), u.NamedCoverage())
				}
				if tc.observed == observed {
					checks = append(checks, struct {
						name      string
						got, want float64
					}{"XID events", float64(u.XIDCount), 24}, struct {
						name      string
						got, want float64
					}{"energy anomalies", float64(u.EnergyAnomalies), 24})
				}
				for _, c := range checks {
					if !approx(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
					}
				}
				if u.Until.After(tc.now) && u.ExpectedSeconds > 0 {
					t.Errorf("expected time runs to %s, after now (%s)", u.Until, tc.now)
				}
			})
		}
	})
}

// TestMIGUsageBreakdown: a MIG GPU's instances are shown under it, never
// added to it.
func TestMIGUsageBreakdown(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		g0, g1 := f.gpus[0].UUID, f.gpus[1].UUID
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-01-01", To: "2026-01-02", OwnGPUs: true, UUIDs: []string{g0, g1}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		start, _ := a.Span()
		// Fold an hour of g0 in MIG mode (two instances, one busy) and g1 whole.
		fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: time.Minute})
		for i := 0; i <= 60; i++ {
			at := start.Add(time.Duration(i) * time.Minute)
			for _, s := range []dcgm.Sample{
				{UUID: g0, Model: "NVIDIA B200", Node: "node-a", Time: at, Power: fptr(400), EnergyMJ: fptr(float64(i) * 24e6)},
				{UUID: g0, MIG: "1", Profile: "4g.90gb", Model: "NVIDIA B200", Time: at, GRActive: fptr(0.5)},
				{UUID: g0, MIG: "2", Profile: "3g.90gb", Model: "NVIDIA B200", Time: at, GRActive: fptr(0)},
				{UUID: g1, Model: "NVIDIA B200", Node: "node-a", Time: at, Util: fptr(80), Power: fptr(900), EnergyMJ: fptr(float64(i) * 54e6)},
			} {
				fold.Add(s)
			}
		}
		s := models.TelemetryStore{DB: db}
		if err := s.UpsertRollups(ctx, f.cluster.ID, fold.Flush(start.Add(2*time.Hour)), gpuNow); err != nil {
			t.Fatal(err)
		}
		u, err := models.AllocationUsage(ctx, db, a.ID, start, start.Add(time.Hour), gpuNow)
		if err != nil {
			t.Fatal(err)
		}
		if !approx(u.ObservedSeconds, 2*3600) || !approx(u.ActiveSeconds, 2*3600) || u.Devices != 2 || u.Instances != 2 ||
			!approx(u.MeanUtil(), (50*4.0/7+80)/2) || !approx(u.EnergyJ, 3600*(400+900)) || !approx(u.Coverage(), 1) {
			t.Errorf("usage: observed %v busy %v devices %d instances %d util %v energy %v coverage %v",
				u.ObservedSeconds, u.ActiveSeconds, u.Devices, u.Instances, u.MeanUtil(), u.EnergyJ, u.Coverage())
		}
		per, err := models.AllocationGPUUsage(ctx, db, a, start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		m := per[g0]
		if !approx(m.ObservedSeconds, 3600) || len(m.Instances) != 2 || m.Instances[0].MIG != "1" || m.Instances[0].Profile != "4g.90gb" ||
			!approx(m.Instances[0].MeanUtil(), 50) || m.Instances[1].ActiveSeconds != 0 || len(per[g1].Instances) != 0 {
			t.Errorf("per GPU: %+v", per)
		}
		// The chart counts the GPUs, not their instances.
		pts, _, err := models.AllocationSeries(ctx, db, a, start, start.Add(time.Hour), "")
		if err != nil || len(pts) != 1 || !approx(pts[0].GPUs, 2) || !approx(*pts[0].Power, 1300) {
			t.Errorf("series %+v, %v", pts, err)
		}
	})
}

func fptr(v float64) *float64 { return &v }

// TestDuplicateUUIDRefused: a second cluster reporting a GPU UUID that
// another cluster has is refused; the first's history stays as it was.
func TestDuplicateUUIDRefused(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		s := models.TelemetryStore{DB: db}
		a, b := f.cluster, f.hCluster
		// Cluster B's simulator clones two of cluster A's UUIDs.
		simA := dcgm.NewSimulator(dcgm.SimConfig{Seed: 1, Cluster: a.Name, GPUsPerNode: 4, Model: "NVIDIA B200",
			Profiles: dcgm.SimProfiles{Busy: 1}, Interval: time.Minute})
		shared := []string{simA.GPUs()[0].UUID, simA.GPUs()[1].UUID}
		run := func(cluster *models.Cluster, dup []string, seed int64) []dcgm.Rollup {
			var clock time.Time
			sim := dcgm.NewSimulator(dcgm.SimConfig{Seed: seed, Cluster: cluster.Name, GPUsPerNode: 4, Model: cluster.GPUModel,
				Profiles: dcgm.SimProfiles{Busy: 1}, Interval: time.Minute, DuplicateUUIDs: dup, Now: func() time.Time { return clock }})
			fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: time.Minute})
			var gpus []dcgm.GPUInfo
			for i := 0; i <= 60; i++ {
				clock = gpuNow.Add(-2*time.Hour + time.Duration(i)*time.Minute)
				p, _ := sim.Poll(ctx)
				for _, smp := range p.Samples {
					fold.Add(smp)
				}
			}
			for _, g := range sim.GPUs() {
				gpus = append(gpus, g)
			}
			rs := fold.Flush(gpuNow)
			if err := s.UpsertRollups(ctx, cluster.ID, rs, gpuNow); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordGPUs(ctx, cluster.ID, gpus, gpuNow); err != nil {
				t.Fatal(err)
			}
			return rs
		}
		rsA := run(a, nil, 1)
		before, _ := models.ClusterRollupsSince(ctx, db, a.ID, gpuNow.Add(-3*time.Hour))
		rsB := run(b, shared, 2)

		after, _ := models.ClusterRollupsSince(ctx, db, a.ID, gpuNow.Add(-3*time.Hour))
		if len(after) != len(before) || len(before) != len(rsA) {
			t.Fatalf("cluster A's rows: %d before, %d after, %d written", len(before), len(after), len(rsA))
		}
		for i := range before {
			if before[i].ObservedS != after[i].ObservedS || before[i].UtilSum != after[i].UtilSum || after[i].ClusterID != a.ID {
				t.Errorf("A's row %s changed: %+v → %+v", before[i].DeviceKey, before[i], after[i])
			}
		}
		bRows, _ := models.ClusterRollupsSince(ctx, db, b.ID, gpuNow.Add(-3*time.Hour))
		if len(bRows) != len(rsB)-2*2 { // two hours of each shared GPU refused
			t.Errorf("cluster B: %d rows stored of %d", len(bRows), len(rsB))
		}
		for _, r := range bRows {
			if r.UUID == shared[0] || r.UUID == shared[1] {
				t.Errorf("B's row of a shared GPU stored: %+v", r)
			}
		}
		// The GPUs stay A's; the conflict is recorded for both sides to see.
		for _, u := range shared {
			var g models.GPU
			if err := db.Where("uuid = ?", u).First(&g).Error; err != nil || g.ClusterID != a.ID || g.Model != "NVIDIA B200" {
				t.Errorf("GPU %s: %+v, %v", u, g, err)
			}
		}
		cs, err := models.ListGPUConflicts(ctx, db)
		if err != nil || len(cs) != 2 {
			t.Fatalf("conflicts %+v, %v", cs, err)
		}
		for _, c := range cs {
			if c.ClusterID != b.ID || c.OwnerClusterID != a.ID || c.Node == "" {
				t.Errorf("conflict %+v", c)
			}
		}
		// Written straight, a row of another cluster's device is not replaced either.
		row := before[0]
		row.ClusterID, row.ObservedS = b.ID, 1
		if err := models.UpsertRollups(ctx, db, []models.GPURollup{row}, gpuNow); err != nil {
			t.Fatal(err)
		}
		again, _ := models.ClusterRollupsSince(ctx, db, a.ID, gpuNow.Add(-3*time.Hour))
		if again[0].ObservedS != before[0].ObservedS {
			t.Errorf("another cluster's write replaced A's row: %+v", again[0])
		}
	})
}

// TestModelFallback: a dcgm-exporter without modelName (NVIDIA's A100 MIG
// sample has none) reports GPUs of the cluster's registered model, so an
// H-series block can name them.
func TestModelFallback(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		file, err := os.Open(filepath.Join("..", "dcgm", "testdata", "a100_mig_nvidia.prom"))
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		p, err := dcgm.ParseExporter(file, gpuNow)
		if err != nil || len(p.Samples) == 0 || p.Samples[0].Model != "" {
			t.Fatalf("sample: %+v, %v", p.Samples, err)
		}
		smp := p.Samples[0]
		s := models.TelemetryStore{DB: db}
		if err := s.RecordGPUs(ctx, f.hCluster.ID, []dcgm.GPUInfo{{UUID: smp.UUID, Node: smp.Node, Model: smp.Model}}, gpuNow); err != nil {
			t.Fatal(err)
		}
		// A GPU stored without a model before the fallback existed.
		if err := db.Create(&models.GPU{ClusterID: f.hCluster.ID, UUID: "GPU-old-blank", Node: "h-node", FirstSeen: gpuNow, LastSeen: gpuNow}).Error; err != nil {
			t.Fatal(err)
		}
		gs, _ := models.ListClusterGPUs(ctx, db, f.hCluster.ID)
		for _, g := range gs {
			if g.UUID == smp.UUID && g.Model != f.hCluster.GPUModel {
				t.Errorf("GPU recorded as %q, want the cluster's %q", g.Model, f.hCluster.GPUModel)
			}
		}
		_, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.hCluster.ID,
			BlockKind: models.BlockHSeries, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true, UUIDs: []string{smp.UUID, "GPU-old-blank"}})
		if err != nil {
			t.Errorf("H-series block of GPUs without modelName: %v %v", err, errs)
		}
	})
}

// TestRollupFiguresMigration: rows stored before the rollups had profiles,
// anomalies and the last XID read as they were after the migration.
func TestRollupFiguresMigration(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		u := f.gpus[0].UUID
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 1, From: "2026-01-01", To: "2026-01-01", OwnGPUs: true, UUIDs: []string{u}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// The schema as it was before 2026120610.
		for _, stmt := range []string{
			"ALTER TABLE gpu_rollups DROP COLUMN profile", "ALTER TABLE gpu_rollups DROP COLUMN energy_anomalies",
			"ALTER TABLE gpu_rollups DROP COLUMN last_xid", "ALTER TABLE gpu_rollup_days DROP COLUMN profile",
			"ALTER TABLE gpu_rollup_days DROP COLUMN energy_anomalies", "DROP TABLE gpu_conflicts",
			"DELETE FROM schema_migrations WHERE id IN ('2026120610_rollup_figures', '2026120611_gpu_conflicts')",
		} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		start, _ := a.Span()
		for _, key := range []string{u, u + "/3"} {
			err := db.Exec(`INSERT INTO gpu_rollups (device_key, hour, uuid, cluster_id, node, model, observed_s, active_s,
				util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, updated_at)
				VALUES (?, ?, ?, ?, 'node-a', 'NVIDIA B200', 3600, 1800, 180000, 0, 0, 1800000, 100, 2, 240, ?)`,
				key, start, u, f.cluster.ID, gpuNow).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := models.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		rows, err := models.ClusterRollupsSince(ctx, db, f.cluster.ID, start)
		if err != nil || len(rows) != 2 || rows[0].Profile != "" || rows[0].EnergyAnomalies != 0 || rows[0].LastXID != nil {
			t.Fatalf("old rows: %+v, %v", rows, err)
		}
		us, err := models.AllocationUsage(ctx, db, a.ID, start, start.Add(time.Hour), gpuNow)
		if err != nil || !approx(us.ObservedSeconds, 3600) || us.XIDCount != 2 || us.Instances != 1 {
			t.Errorf("usage of old rows: %+v, %v", us, err)
		}
	})
}
