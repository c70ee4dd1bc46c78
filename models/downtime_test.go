package models_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestDowntimeLeavesExpectedTime: a cluster's downtime windows are left out
// of expected time and shown as down; observed time splits into busy and
// idle at the busy threshold the rollups recorded; what is neither is
// unobserved.
func TestDowntimeLeavesExpectedTime(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		var uuids []string
		for _, g := range f.hGPUs {
			uuids = append(uuids, g.UUID)
		}
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.hCluster.ID,
			BlockKind: models.BlockHSeries, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true, UUIDs: uuids})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// Each identified GPU observed 00:00–06:00 KST on 1 December, half
		// of each hour busy; folded at 5 % for three hours, then at 10 %.
		var rows []models.GPURollup
		for h := decKST(1, 0, 0); h.Before(decKST(1, 6, 0)); h = h.Add(time.Hour) {
			for _, u := range uuids {
				r := rollup(u, u, h, 3600, 1800, 3600*40, 0, 1000)
				r.ClusterID, r.BusyThresholdPct = f.hCluster.ID, 5
				if !h.Before(decKST(1, 3, 0)) {
					r.BusyThresholdPct = 10
				}
				rows = append(rows, r)
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		// Downtime: 2 h of maintenance on 2 December, an outage overlapping it
		// by 1 h (counted once), and a window on another cluster.
		for _, in := range []models.DowntimeInput{
			{ClusterID: f.hCluster.ID, Start: "2026-12-02T10:00", End: "2026-12-02T12:00", Kind: models.DowntimeMaintenance, Reason: "firmware"},
			{ClusterID: f.hCluster.ID, Start: "2026-12-02T11:00", End: "2026-12-02T13:00", Kind: models.DowntimeOutage, Reason: "power"},
			{ClusterID: f.cluster.ID, Start: "2026-12-01T00:00", End: "2026-12-05T00:00", Kind: models.DowntimeOutage, Reason: "other"},
		} {
			if _, errs, err := models.CreateDowntime(ctx, db, in, f.officer, gpuNow); err != nil {
				t.Fatalf("downtime %v: %v %v", in, err, errs)
			}
		}
		const n = 1000.0 // the block
		for _, tc := range []struct {
			name           string
			from, to, now  time.Time
			downH          float64 // per GPU
			expectedH      float64 // per GPU
			observed, busy float64 // GPU-seconds
			thMin, thMax   float64
		}{
			{"the first day (daily rollups)", decKST(1, 0, 0), decKST(2, 0, 0), decKST(5, 0, 0), 0, 24, 4 * 6 * 3600, 4 * 6 * 1800, 5, 10},
			{"the first hours (hourly rollups)", decKST(1, 0, 0), decKST(1, 3, 0), decKST(5, 0, 0), 0, 3, 4 * 3 * 3600, 4 * 3 * 1800, 5, 5},
			{"the second day: 3 h down", decKST(2, 0, 0), decKST(3, 0, 0), decKST(5, 0, 0), 3, 21, 0, 0, 0, 0},
			{"the second day at 11:30", decKST(2, 0, 0), decKST(3, 0, 0), decKST(2, 11, 30), 1.5, 10, 0, 0, 0, 0},
			{"both days", decKST(1, 0, 0), decKST(3, 0, 0), decKST(5, 0, 0), 3, 45, 4 * 6 * 3600, 4 * 6 * 1800, 5, 10},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := models.AllocationUsage(ctx, db, a.ID, tc.from, tc.to, tc.now)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					name      string
					got, want float64
				}{
					{"down", u.DownGPUHours(), n * tc.downH},
					{"expected", u.ExpectedGPUHours(), n * tc.expectedH},
					{"expected of the identified", u.ExpectedNamedSeconds, 4 * tc.expectedH * 3600},
					{"observed", u.ObservedSeconds, tc.observed},
					{"busy", u.BusyGPUHours(), tc.busy / 3600},
					{"idle", u.IdleGPUHours(), (tc.observed - tc.busy) / 3600},
					{"unobserved", u.UnobservedGPUHours(), n*tc.expectedH - tc.observed/3600},
					{"threshold min", u.BusyThresholdMin, tc.thMin},
					{"threshold max", u.BusyThresholdMax, tc.thMax},
				} {
					if !approx(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
					}
				}
				// Down, busy, idle and unobserved make up the block's time.
				total := u.DownGPUHours() + u.BusyGPUHours() + u.IdleGPUHours() + u.UnobservedGPUHours()
				if span := n * u.Until.Sub(u.From).Hours(); !approx(total, span) {
					t.Errorf("down+busy+idle+unobserved = %v, want the block's %v", total, span)
				}
			})
		}
	})
}

func TestCreateDowntimeChecksAndAudits(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		for _, tc := range []struct {
			name  string
			in    models.DowntimeInput
			field string
		}{
			{"no start", models.DowntimeInput{End: "2026-12-02T12:00", Kind: "outage", Reason: "x"}, "start"},
			{"end before start", models.DowntimeInput{Start: "2026-12-02T12:00", End: "2026-12-02T11:00", Kind: "outage", Reason: "x"}, "end"},
			{"empty window", models.DowntimeInput{Start: "2026-12-02T12:00", End: "2026-12-02T12:00", Kind: "outage", Reason: "x"}, "end"},
			{"unknown kind", models.DowntimeInput{Start: "2026-12-02T10:00", End: "2026-12-02T12:00", Kind: "holiday", Reason: "x"}, "kind"},
			{"no reason", models.DowntimeInput{Start: "2026-12-02T10:00", End: "2026-12-02T12:00", Kind: "outage", Reason: " "}, "reason"},
		} {
			tc.in.ClusterID = f.hCluster.ID
			_, errs, err := models.CreateDowntime(ctx, db, tc.in, f.officer, gpuNow)
			if !errors.Is(err, models.ErrInvalid) || errs[tc.field] == "" {
				t.Errorf("%s: err %v, errs %v; want a problem with %s", tc.name, err, errs, tc.field)
			}
		}
		in := models.DowntimeInput{ClusterID: f.hCluster.ID, Start: "2026-12-02T10:00", End: "2026-12-02T12:00",
			Kind: models.DowntimeMaintenance, Reason: "firmware"}
		d, _, err := models.CreateDowntime(ctx, db, in, f.officer, gpuNow)
		if err != nil {
			t.Fatal(err)
		}
		// KST in, UTC stored.
		if want := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC); !d.Start.Equal(want) || d.End.Sub(d.Start) != 2*time.Hour {
			t.Errorf("window %v – %v, want from %v for 2 h", d.Start, d.End, want)
		}
		ds, err := models.ListDowntimes(ctx, db, f.hCluster.ID)
		if err != nil || len(ds) != 1 || ds[0].Reason != "firmware" {
			t.Fatalf("listed %v, %v", ds, err)
		}
		var n int64
		db.Model(&models.AuditEntry{}).Where("action = ? AND object_id = ?", "downtime.create", fmt.Sprint(ds[0].ClusterID)).Count(&n)
		if n != 1 {
			t.Errorf("%d audit rows, want 1", n)
		}
		if _, _, err := models.CreateDowntime(ctx, db, in, nil, gpuNow); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("without a user: %v", err)
		}
	})
}

func TestImportDowntimes(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		for _, tc := range []struct {
			name, csv string
			line      int
			msg       string
		}{
			{"no header", "2026-12-02 10:00,2026-12-02 12:00,outage,power\n", 1, "gpu.downtime.import.header"},
			{"header only", "start,end,kind,reason\n", 0, "gpu.downtime.import.empty"},
			{"wrong field count", "start,end,kind,reason\n2026-12-02 10:00,2026-12-02 12:00,outage\n", 2, "gpu.downtime.import.malformed"},
			{"bad row 3", "start,end,kind,reason\n2026-12-02 10:00,2026-12-02 12:00,outage,power\n2026-12-03 10:00,2026-12-03 09:00,outage,x\n", 3, "gpu.downtime.error.order"},
			{"bad kind", "start,end,kind,reason\n2026-12-02 10:00,2026-12-02 12:00,holiday,x\n", 2, "gpu.downtime.error.kind"},
		} {
			_, err := models.ImportDowntimes(ctx, db, f.hCluster.ID, "d.csv", []byte(tc.csv), f.officer, gpuNow)
			var fe *models.DowntimeFileError
			if !errors.As(err, &fe) || fe.Line != tc.line || fe.MessageID != tc.msg {
				t.Errorf("%s: %v, want line %d %s", tc.name, err, tc.line, tc.msg)
			}
		}
		if ds, _ := models.ListDowntimes(ctx, db, f.hCluster.ID); len(ds) != 0 {
			t.Fatalf("a wrong file imported %d windows", len(ds))
		}
		file := "\ufeffStart,End,Kind,Reason\n2026-12-02 10:00,2026-12-02 12:00,maintenance,\"firmware, racks 1-4\"\n" +
			"2026-12-03T01:00,2026-12-03T01:30,outage,power\n"
		n, err := models.ImportDowntimes(ctx, db, f.hCluster.ID, "d.csv", []byte(file), f.officer, gpuNow)
		if err != nil || n != 2 {
			t.Fatalf("import: %d, %v", n, err)
		}
		ds, _ := models.ListDowntimes(ctx, db, f.hCluster.ID)
		if len(ds) != 2 || ds[1].Reason != "firmware, racks 1-4" || !ds[1].Start.Equal(decKST(2, 10, 0)) || ds[0].Kind != models.DowntimeOutage {
			t.Fatalf("imported %+v", ds)
		}
		down, err := models.DownSeconds(ctx, db, f.hCluster.ID, decKST(1, 0, 0), decKST(4, 0, 0))
		if err != nil || down != 2.5*3600 {
			t.Errorf("down %v s, %v; want 2.5 h", down, err)
		}
		var audits int64
		db.Model(&models.AuditEntry{}).Where("action = ?", "downtime.import").Count(&audits)
		if audits != 1 {
			t.Errorf("%d audit rows, want 1", audits)
		}
	})
}
