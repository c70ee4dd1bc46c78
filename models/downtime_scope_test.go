package models_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// dt is a downtime window on 2 December (KST hours and minutes).
func dt(cluster uint, from, to, scope, targets string) models.DowntimeInput {
	return models.DowntimeInput{ClusterID: cluster, Start: "2026-12-02T" + from, End: "2026-12-02T" + to,
		Kind: models.DowntimeMaintenance, Reason: "work", Scope: scope, Targets: targets}
}

// TestDowntimeScope: a window of the whole cluster takes every GPU of the
// block down, the identified and the not yet identified; a window of some
// nodes or GPUs takes down only the allocation's identified GPUs among them.
func TestDowntimeScope(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		// Six GPUs: node-a's four and node-b's first identified, one not yet.
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 6, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID, f.gpus[2].UUID, f.gpus[3].UUID, f.gpus[4].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		c, h := f.cluster.ID, f.hCluster.ID
		for _, tc := range []struct {
			name                     string
			windows                  []models.DowntimeInput
			down, expected, expNamed float64 // GPU-hours of 2 December
		}{
			{"none", nil, 0, 6 * 24, 5 * 24},
			{"whole cluster 2 h", []models.DowntimeInput{dt(c, "10:00", "12:00", "", "")}, 6 * 2, 6 * 22, 5 * 22},
			{"node-a 2 h", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeNodes, "node-a")}, 4 * 2, 6*24 - 8, 5*24 - 8},
			{"node-b 2 h: one identified GPU", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeNodes, "node-b")}, 2, 6*24 - 2, 5*24 - 2},
			{"one GPU 2 h", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeGPUs, f.gpus[4].UUID)}, 2, 6*24 - 2, 5*24 - 2},
			{"a GPU not in the block", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeGPUs, f.gpus[5].UUID)}, 0, 6 * 24, 5 * 24},
			{"two GPUs, 30 minutes", []models.DowntimeInput{dt(c, "10:00", "10:30", models.ScopeGPUs, f.gpus[0].UUID+" "+f.gpus[1].UUID)}, 1, 6*24 - 1, 5*24 - 1},
			{"whole 10–12 and node-a 11–13: the overlap once", []models.DowntimeInput{dt(c, "10:00", "12:00", "", ""),
				dt(c, "11:00", "13:00", models.ScopeNodes, "node-a")}, 6*2 + 4*1, 6*22 - 4, 4*21 + 22},
			{"another cluster's node", []models.DowntimeInput{dt(h, "00:00", "23:00", models.ScopeNodes, "h-node")}, 0, 6 * 24, 5 * 24},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := db.Where("1 = 1").Delete(&models.Downtime{}).Error; err != nil {
					t.Fatal(err)
				}
				for _, in := range tc.windows {
					if _, errs, err := models.CreateDowntime(ctx, db, in, f.officer, gpuNow); err != nil {
						t.Fatalf("downtime: %v %v", err, errs)
					}
				}
				u, err := models.AllocationUsage(ctx, db, a.ID, decKST(2, 0, 0), decKST(3, 0, 0), decKST(5, 0, 0))
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					name      string
					got, want float64
				}{
					{"down", u.DownGPUHours(), tc.down},
					{"expected", u.ExpectedGPUHours(), tc.expected},
					{"expected of the identified", u.ExpectedNamedSeconds / 3600, tc.expNamed},
					{"down + expected", u.DownGPUHours() + u.ExpectedGPUHours(), 6 * 24},
				} {
					if !approx(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
					}
				}
			})
		}
	})
}

// TestTelemetryDuringDowntime: telemetry of a GPU inside a window that took
// it down is shown as observed during downtime and left out of coverage, so
// coverage never passes 100 %; an hour partly down counts its share.
func TestTelemetryDuringDowntime(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// GPU 0 (node-a) reports every hour of 2 December; GPU 1 nothing.
		var rows []models.GPURollup
		for h := decKST(2, 0, 0); h.Before(decKST(3, 0, 0)); h = h.Add(time.Hour) {
			r := rollup(f.gpus[0].UUID, f.gpus[0].UUID, h, 3600, 3600, 3600*90, 3.6e6, 100)
			r.ClusterID, r.BusyThresholdPct = f.cluster.ID, 5
			rows = append(rows, r)
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		c := f.cluster.ID
		for _, tc := range []struct {
			name     string
			windows  []models.DowntimeInput
			obsDownH float64 // GPU 0's telemetry inside downtime
			gpuExpH  float64 // GPU 0's expected hours
			blockExp float64 // the block's expected hours
		}{
			{"none", nil, 0, 24, 48},
			{"whole cluster 10–12", []models.DowntimeInput{dt(c, "10:00", "12:00", "", "")}, 2, 22, 44},
			{"node-a 10–12", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeNodes, "node-a")}, 2, 22, 44},
			{"node-a 10:30–11:00: half an hour's share", []models.DowntimeInput{dt(c, "10:30", "11:00", models.ScopeNodes, "node-a")}, 0.5, 23.5, 47},
			{"GPU 1 10–12: not GPU 0's", []models.DowntimeInput{dt(c, "10:00", "12:00", models.ScopeGPUs, f.gpus[1].UUID)}, 0, 24, 46},
			{"node-b all day", []models.DowntimeInput{dt(c, "00:00", "23:59", models.ScopeNodes, "node-b")}, 0, 24, 48},
			{"overlapping windows counted once", []models.DowntimeInput{dt(c, "10:00", "12:00", "", ""),
				dt(c, "11:00", "13:00", models.ScopeGPUs, f.gpus[0].UUID)}, 3, 21, 43},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := db.Where("1 = 1").Delete(&models.Downtime{}).Error; err != nil {
					t.Fatal(err)
				}
				for _, in := range tc.windows {
					if _, errs, err := models.CreateDowntime(ctx, db, in, f.officer, gpuNow); err != nil {
						t.Fatalf("downtime: %v %v", err, errs)
					}
				}
				one, err := models.AllocationGPUSummary(ctx, db, a.ID, f.gpus[0].UUID, decKST(2, 0, 0), decKST(3, 0, 0), decKST(5, 0, 0))
				if err != nil {
					t.Fatal(err)
				}
				all, err := models.AllocationUsage(ctx, db, a.ID, decKST(2, 0, 0), decKST(3, 0, 0), decKST(5, 0, 0))
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					name      string
					got, want float64
				}{
					{"GPU 0 observed", one.ObservedGPUHours(), 24},
					{"GPU 0 observed during downtime", one.ObservedDownGPUHours(), tc.obsDownH},
					{"GPU 0 expected", one.ExpectedGPUHours(), tc.gpuExpH},
					{"GPU 0 coverage", one.Coverage(), 1},
					{"GPU 0 unobserved", one.UnobservedGPUHours(), 0},
					{"block observed during downtime", all.ObservedDownGPUHours(), tc.obsDownH},
					{"block expected", all.ExpectedGPUHours(), tc.blockExp},
					{"block coverage", all.Coverage(), (24 - tc.obsDownH) / tc.blockExp},
					{"block unobserved", all.UnobservedGPUHours(), tc.blockExp - (24 - tc.obsDownH)},
				} {
					if !approx(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
					}
				}
				if all.Coverage() > 1 || one.Coverage() > 1 {
					t.Errorf("coverage above 100 %%: GPU %v, block %v", one.Coverage(), all.Coverage())
				}
			})
		}
	})
}

// TestDowntimeScopeChecked: a window of nodes or GPUs names ones the
// cluster has reported; the form and the file say which is wrong.
func TestDowntimeScopeChecked(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		c := f.cluster.ID
		for _, tc := range []struct {
			name  string
			in    models.DowntimeInput
			field string
			msg   string
		}{
			{"nodes without names", dt(c, "10:00", "12:00", models.ScopeNodes, " "), "targets", "gpu.downtime.error.targets_nodes"},
			{"GPUs without UUIDs", dt(c, "10:00", "12:00", models.ScopeGPUs, ""), "targets", "gpu.downtime.error.targets_gpus"},
			{"unknown scope", dt(c, "10:00", "12:00", "rack", "r1"), "scope", "gpu.downtime.error.scope"},
			{"unknown node", dt(c, "10:00", "12:00", models.ScopeNodes, "node-a node-z"), "targets", "gpu.downtime.error.unknown_node"},
			{"another cluster's node", dt(c, "10:00", "12:00", models.ScopeNodes, "h-node"), "targets", "gpu.downtime.error.unknown_node"},
			{"unknown GPU", dt(c, "10:00", "12:00", models.ScopeGPUs, "GPU-nope"), "targets", "gpu.downtime.error.unknown_gpu"},
		} {
			_, errs, err := models.CreateDowntime(ctx, db, tc.in, f.officer, gpuNow)
			if !errors.Is(err, models.ErrInvalid) || errs[tc.field] != tc.msg {
				t.Errorf("%s: %v %v, want %s: %s", tc.name, err, errs, tc.field, tc.msg)
			}
		}
		for _, tc := range []struct {
			name, csv string
			line      int
			msg       string
		}{
			{"five columns", "start,end,kind,reason,scope\n", 1, "gpu.downtime.import.header"},
			{"a short row", "start,end,kind,reason,scope,targets\n2026-12-02 10:00,2026-12-02 12:00,outage,power\n", 2, "gpu.downtime.import.malformed"},
			{"unknown node on row 3", "start,end,kind,reason,scope,targets\n2026-12-02 10:00,2026-12-02 12:00,outage,power,,\n" +
				"2026-12-03 10:00,2026-12-03 12:00,outage,power,nodes,node-z\n", 3, "gpu.downtime.error.unknown_node"},
			{"nodes without names", "start,end,kind,reason,scope,targets\n2026-12-02 10:00,2026-12-02 12:00,outage,power,nodes,\n", 2, "gpu.downtime.error.targets_nodes"},
		} {
			_, err := models.ImportDowntimes(ctx, db, c, "d.csv", []byte(tc.csv), f.officer, gpuNow)
			var fe *models.DowntimeFileError
			if !errors.As(err, &fe) || fe.Line != tc.line || fe.MessageID != tc.msg {
				t.Errorf("%s: %v, want line %d %s", tc.name, err, tc.line, tc.msg)
			}
		}
		if ds, _ := models.ListDowntimes(ctx, db, c); len(ds) != 0 {
			t.Fatalf("wrong input recorded %d windows", len(ds))
		}
		file := "start,end,kind,reason,scope,targets\n2026-12-02 10:00,2026-12-02 12:00,outage,power,,\n" +
			"2026-12-03 10:00,2026-12-03 12:00,maintenance,racks,Nodes,node-a;node-b\n" +
			"2026-12-04 10:00,2026-12-04 12:00,maintenance,swap,gpus," + f.gpus[3].UUID + "\n"
		if n, err := models.ImportDowntimes(ctx, db, c, "d.csv", []byte(file), f.officer, gpuNow); err != nil || n != 3 {
			t.Fatalf("import: %d, %v", n, err)
		}
		ds, _ := models.ListDowntimes(ctx, db, c)
		if len(ds) != 3 || !ds[2].Whole() || ds[1].Scope != models.ScopeNodes || len(ds[1].TargetList()) != 2 ||
			ds[0].Scope != models.ScopeGPUs || ds[0].TargetList()[0] != f.gpus[3].UUID {
			t.Errorf("imported %+v", ds)
		}
		var audit models.AuditEntry
		if _, _, err := models.CreateDowntime(ctx, db, dt(c, "10:00", "12:00", models.ScopeNodes, "node-b"), f.officer, gpuNow); err != nil {
			t.Fatal(err)
		}
		db.Where("action = ?", "downtime.create").Order("id DESC").First(&audit)
		if want := "nodes node-b"; !strings.Contains(audit.Summary, want) {
			t.Errorf("audit summary %q lacks %q", audit.Summary, want)
		}
	})
}
