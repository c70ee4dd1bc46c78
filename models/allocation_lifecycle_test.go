package models_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// kst is 2027-01-dd hh:00 KST.
func janKST(dd, hh int) time.Time {
	return time.Date(2027, 1, dd, hh, 0, 0, 0, models.KST).UTC()
}

// TestAllocationLifecycleRules: each change to an allocation, allowed or
// refused, on a block of 4 B200 GPUs for 2027-01-01 – 2027-01-10 holding
// node-a GPUs 0 and 1 (another team holds node-b GPU 0 from 2027-01-11).
func TestAllocationLifecycleRules(t *testing.T) {
	type want struct {
		field, msg string // a refusal: the field and message; "" allowed
		conflict   bool   // refused as a GPU of another allocation
	}
	before, during := gpuNow, janKST(5, 14) // before the period, in it
	cases := []struct {
		name   string
		now    time.Time
		change func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error)
		want   want
		check  func(t *testing.T, a *models.Allocation)
	}{
		{"extend", before, period("", "2027-01-10", "2027-01-20"), want{}, func(t *testing.T, a *models.Allocation) {
			if a.PeriodTo != "2027-01-20" {
				t.Errorf("last day %s", a.PeriodTo)
			}
		}},
		{"shorten before start", before, period("", "2027-01-10", "2027-01-05"), want{}, func(t *testing.T, a *models.Allocation) {
			if a.PeriodTo != "2027-01-05" {
				t.Errorf("last day %s", a.PeriodTo)
			}
		}},
		{"move the start before it began", before, period("2027-01-03", "", "2027-01-10"), want{}, nil},
		{"shorten to before the first day", before, period("", "", "2026-12-31"), want{"to", "gpu.error.period", false}, nil},
		{"move the start once begun", during, period("2027-01-02", "", "2027-01-10"), want{"from", "gpu.error.started", false}, nil},
		{"shorten into the past", during, period("", "", "2027-01-04"), want{"to", "gpu.error.past", false}, nil},
		{"shorten to today", during, period("", "", "2027-01-05"), want{}, nil},
		{"extend over another team's GPU", before, func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
			if _, err := models.AddAllocationGPUs(t.Context(), db, a.ID, models.GPUAddition{UUIDs: []string{f.gpus[4].UUID}}, f.officer, now); err != nil {
				return nil, err
			}
			return period("", "", "2027-01-20")(f, db, a, now)
		}, want{conflict: true}, nil},
		{"end early", during, end("2027-01-04", "the provider's hall lost power"), want{}, func(t *testing.T, a *models.Allocation) {
			if !a.Ended() || a.PeriodTo != "2027-01-04" {
				t.Errorf("ended %v, last day %s", a.Ended(), a.PeriodTo)
			}
		}},
		{"end early without a reason", during, end("2027-01-04", " "), want{"reason", "form.required", false}, nil},
		{"end early on the last day", during, end("2027-01-10", "why"), want{"last_day", "gpu.error.not_earlier", false}, nil},
		{"change after the end", during, func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
			if _, err := end("2027-01-04", "given back")(f, db, a, now); err != nil {
				return nil, err
			}
			return add(2, "")(f, db, a, now)
		}, want{"form", "gpu.error.ended", false}, nil},
		{"add as supplied", during, add(2, "2027-01-03 09:00"), want{}, func(t *testing.T, a *models.Allocation) {
			if len(a.Current()) != 3 || a.GPUs[2].JoinedAt == nil || !a.GPUs[2].JoinedAt.Equal(janKST(3, 9)) {
				t.Errorf("GPUs %+v", a.GPUs)
			}
		}},
		{"add from the start", before, add(2, ""), want{}, func(t *testing.T, a *models.Allocation) {
			if a.GPUs[2].JoinedAt != nil {
				t.Errorf("joined at %v, want from the start", a.GPUs[2].JoinedAt)
			}
		}},
		{"add after the end", before, add(2, "2027-01-11 00:00"), want{"at", "gpu.error.after_end", false}, nil},
		{"add once the period is over", janKST(12, 0), add(2, ""), want{"at", "gpu.error.after_end", false}, nil},
		{"add at a minute", before, add(2, "2027-01-03 09:30"), want{}, nil},
		{"add at no time", before, add(2, "2027-01-03 9h"), want{"at", "gpu.error.instant", false}, nil},
		{"add more than the block holds", before, func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
			return models.AddAllocationGPUs(t.Context(), db, a.ID, models.GPUAddition{UUIDs: []string{f.gpus[2].UUID, f.gpus[3].UUID, f.gpus[5].UUID}}, f.officer, now)
		}, want{"gpus", "gpu.error.too_many", false}, nil},
		{"add a GPU already in it", before, add(1, ""), want{"gpus", "gpu.error.in_allocation", false}, nil},
		{"replace at an instant", during, replace(0, 2, "2027-01-05 12:00", "XID 79"), want{}, func(t *testing.T, a *models.Allocation) {
			cur := a.Current()
			if len(cur) != 2 || len(a.GPUs) != 3 {
				t.Fatalf("current %d of %d", len(cur), len(a.GPUs))
			}
			for _, g := range a.GPUs {
				switch {
				case g.LeftAt != nil && !g.LeftAt.Equal(janKST(5, 12)):
					t.Errorf("%s left at %v", g.GPUUUID, g.LeftAt)
				case g.JoinedAt != nil && !g.JoinedAt.Equal(janKST(5, 12)):
					t.Errorf("%s joined at %v", g.GPUUUID, g.JoinedAt)
				}
			}
		}},
		{"replace without a reason", during, replace(0, 2, "2027-01-05 12:00", ""), want{"reason", "form.required", false}, nil},
		{"replace at a minute", during, replace(0, 2, "2027-01-05 12:30", "XID"), want{}, nil},
		{"replace at no time", during, replace(0, 2, "2027-01-05", "XID"), want{"at", "gpu.error.instant", false}, nil},
		{"replace before the start", during, replace(0, 2, "2026-12-31 12:00", "XID"), want{"at", "gpu.error.before_joined", false}, nil},
		{"replace after the end", during, replace(0, 2, "2027-01-11 00:00", "XID"), want{"at", "gpu.error.after_end", false}, nil},
		{"replace a GPU not in it", during, replace(3, 2, "2027-01-05 12:00", "XID"), want{"old", "gpu.error.not_in_allocation", false}, nil},
		{"replace by a GPU already in it", during, replace(0, 1, "2027-01-05 12:00", "XID"), want{"new", "gpu.error.in_allocation", false}, nil},
		{"replace by another team's GPU", during, replace(0, 4, "2027-01-05 12:00", "XID"), want{}, nil},
	}
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		f := newGPUFixture(t, db)
		// Another team holds node-b GPU 0 from 2027-01-11.
		if _, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 1, From: "2027-01-11", To: "2027-01-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[4].UUID}}); err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// Each case on a fresh allocation of its own year, so that they do not overlap.
				a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
					BlockKind: models.BlockCustom, GPUCount: 4, From: "2027-01-01", To: "2027-01-10", OwnGPUs: true,
					UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
				if err != nil {
					t.Fatalf("allocate: %v %v", err, errs)
				}
				t.Cleanup(func() { db.Exec("DELETE FROM allocation_gpus WHERE allocation_id = ?", a.ID) })
				errs, err = tc.change(f, db, a, tc.now)
				switch {
				case tc.want.conflict:
					if !errors.Is(err, models.ErrConflict) {
						t.Fatalf("err %v %v, want a conflict", err, errs)
					}
				case tc.want.field != "":
					if !errors.Is(err, models.ErrInvalid) || errs[tc.want.field] != tc.want.msg {
						t.Fatalf("err %v %v, want %s on %s", err, errs, tc.want.msg, tc.want.field)
					}
				case err != nil:
					t.Fatalf("err %v %v", err, errs)
				}
				got, gerr := models.GetAllocation(t.Context(), db, a.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				hist, herr := models.ListAllocationChanges(t.Context(), db, a.ID)
				if herr != nil {
					t.Fatal(herr)
				}
				if tc.want.field != "" || tc.want.conflict {
					if got.PeriodTo != "2027-01-10" && !got.Ended() {
						t.Errorf("a refused change changed the period to %s", got.PeriodTo)
					}
				} else {
					if len(hist) == 0 || hist[len(hist)-1].By == nil || hist[len(hist)-1].By.ID != f.officer.ID {
						t.Errorf("history %+v, want the change by the officer", hist)
					}
					var n int64
					db.Model(&models.AuditEntry{}).Where("object_type = ? AND object_id = ? AND action LIKE ?",
						"allocation", strconv.FormatUint(uint64(a.ID), 10), "allocation.%").Where("action <> ?", "allocation.create").Count(&n)
					if int(n) != len(hist) {
						t.Errorf("%d audit rows for %d changes", n, len(hist))
					}
				}
				if tc.check != nil {
					tc.check(t, got)
				}

			})
		}
	})
}

func period(from, _, to string) func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
	return func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
		return models.ChangeAllocationPeriod(context.Background(), db, a.ID, models.PeriodChange{From: from, To: to, Reason: "asked"}, f.officer, now)
	}
}

// end ends the allocation early, after checking that CheckEndEarly (the
// confirmation page's check) gives the same answer as the change.
func end(last, reason string) func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
	return func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
		in := models.EndEarly{LastDay: last, Reason: reason}
		cur, err := models.GetAllocation(context.Background(), db, a.ID)
		if err != nil {
			return nil, err
		}
		cerrs, cerr := models.CheckEndEarly(cur, in)
		errs, err := models.EndAllocation(context.Background(), db, a.ID, in, f.officer, now)
		return errs, sameAnswer(cerrs, cerr, errs, err)
	}
}

// sameAnswer returns the change's error, or one saying that the check
// before it answered otherwise.
func sameAnswer(cerrs models.FieldErrors, cerr error, errs models.FieldErrors, err error) error {
	same := (cerr == nil) == (err == nil) && errors.Is(cerr, models.ErrInvalid) == errors.Is(err, models.ErrInvalid) &&
		errors.Is(cerr, models.ErrConflict) == errors.Is(err, models.ErrConflict) && maps.Equal(cerrs, errs)
	if !same {
		return fmt.Errorf("the check answered %v %v, the change %v %v", cerr, cerrs, err, errs)
	}
	return err
}

func add(gpu int, at string) func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
	return func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
		return models.AddAllocationGPUs(context.Background(), db, a.ID, models.GPUAddition{UUIDs: []string{f.gpus[gpu].UUID}, At: at}, f.officer, now)
	}
}

// replace replaces a GPU, after checking that CheckReplacement gives the
// same answer as the change.
func replace(old, new int, at, reason string) func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
	return func(f *gpuFixture, db *gorm.DB, a *models.Allocation, now time.Time) (models.FieldErrors, error) {
		in := models.GPUReplacement{Old: f.gpus[old].UUID, New: f.gpus[new].UUID, At: at, Reason: reason}
		cur, err := models.GetAllocation(context.Background(), db, a.ID)
		if err != nil {
			return nil, err
		}
		cerrs, cerr := models.CheckReplacement(context.Background(), db, cur, in)
		errs, err := models.ReplaceAllocationGPU(context.Background(), db, a.ID, in, f.officer, now)
		return errs, sameAnswer(cerrs, cerr, errs, err)
	}
}

// TestFiguresFollowReplacement: a GPU counts toward an allocation, expected
// and observed, only while it belonged to it. GPU 0 is replaced by GPU 2 at
// 2027-01-05 12:00 KST; all three report every hour from 01-04 to 01-07,
// before and after they belonged.
func TestFiguresFollowReplacement(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		g0, g1, g2 := f.gpus[0].UUID, f.gpus[1].UUID, f.gpus[2].UUID
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2027-01-01", To: "2027-01-10", OwnGPUs: true, UUIDs: []string{g0, g1}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		if errs, err := models.ReplaceAllocationGPU(ctx, db, a.ID, models.GPUReplacement{Old: g0, New: g2,
			At: "2027-01-05 12:00", Reason: "XID 79: fell off the bus"}, f.officer, janKST(5, 14)); err != nil {
			t.Fatalf("replace: %v %v", err, errs)
		}
		var rows []models.GPURollup
		for h := janKST(4, 0); h.Before(janKST(7, 0)); h = h.Add(time.Hour) {
			for _, u := range []string{g0, g1, g2} {
				r := rollup(u, u, h, 3600, 1800, 3600*40, 3600*500, 1000)
				r.ClusterID, r.XIDCount = f.cluster.ID, 1
				rows = append(rows, r)
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, janKST(7, 0)); err != nil {
			t.Fatal(err)
		}
		now := janKST(7, 0)
		hours := func(s float64) float64 { return s / 3600 }
		for _, tc := range []struct {
			name                    string
			from, to                time.Time
			expectedNamed, observed float64 // hours
			xids                    int
		}{
			// Whole days (daily rollups for GPU 1, hourly for the others).
			{"the period so far", janKST(1, 0), janKST(11, 0), 144 + 108 + 36, 72 + 36 + 36, 72 + 36 + 36},
			// Hours only: the day of the replacement.
			{"the day of the replacement", janKST(5, 0), janKST(6, 0), 24 + 12 + 12, 48, 48},
			{"before it", janKST(5, 0), janKST(5, 12), 24, 24, 24},
			{"after it", janKST(5, 12), janKST(6, 0), 24, 24, 24},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := models.AllocationUsage(ctx, db, a.ID, tc.from, tc.to, now)
				if err != nil {
					t.Fatal(err)
				}
				if u.GPUs != 2 || u.Allocated != 2 {
					t.Errorf("%d GPUs identified of %d, want 2 of 2", u.GPUs, u.Allocated)
				}
				if !approx(hours(u.ExpectedNamedSeconds), tc.expectedNamed) || !approx(hours(u.ObservedSeconds), tc.observed) {
					t.Errorf("expected %v h, observed %v h; want %v and %v", hours(u.ExpectedNamedSeconds), hours(u.ObservedSeconds),
						tc.expectedNamed, tc.observed)
				}
				if u.XIDCount != tc.xids {
					t.Errorf("%d XID events, want %d", u.XIDCount, tc.xids)
				}
				if u.Coverage() > 1+1e-9 || u.NamedCoverage() > 1+1e-9 {
					t.Errorf("coverage %v / %v over 100 %%", u.Coverage(), u.NamedCoverage())
				}
			})
		}
		full, err := models.GetAllocation(ctx, db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		per, err := models.AllocationGPUUsage(ctx, db, full, janKST(1, 0), janKST(11, 0))
		if err != nil {
			t.Fatal(err)
		}
		for uuid, want := range map[string]float64{g0: 36, g1: 72, g2: 36} {
			if got := hours(per[uuid].ObservedSeconds); !approx(got, want) {
				t.Errorf("GPU %s observed %v h, want %v", uuid, got, want)
			}
		}
		// The hourly chart of the day: two GPUs' worth in every hour, never three.
		pts, step, err := models.AllocationSeries(ctx, db, full, janKST(5, 0), janKST(6, 0), "")
		if err != nil || step != time.Hour || len(pts) != 24 {
			t.Fatalf("series: %d points of %s, %v", len(pts), step, err)
		}
		for _, p := range pts {
			if !approx(p.GPUs, 2) {
				t.Errorf("%s: %v GPUs' worth, want 2", p.At, p.GPUs)
			}
		}
		// The daily chart: 01-05 has two GPUs' worth, as every other day.
		pts, step, err = models.AllocationSeries(ctx, db, full, janKST(1, 0), janKST(11, 0), "")
		if err != nil || step != 24*time.Hour {
			t.Fatalf("series: %s, %v", step, err)
		}
		for _, p := range pts {
			want := 0.0
			if !p.At.Before(janKST(4, 0)) && p.At.Before(janKST(7, 0)) {
				want = 2
			}
			if !approx(p.GPUs, want) {
				t.Errorf("%s: %v GPUs' worth, want %v", p.At, p.GPUs, want)
			}
		}
		// The replaced GPU's own chart stops when it left.
		pts, _, err = models.AllocationSeries(ctx, db, full, janKST(5, 0), janKST(6, 0), g0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			if want := p.At.Before(janKST(5, 12)); (p.Util != nil) != want {
				t.Errorf("GPU 0 at %s: observed %v, want %v", p.At, p.Util != nil, want)
			}
		}
	})
}

// TestAllocateNodesLater: a cluster that is down is allocated by node names;
// the GPUs are identified once it reports them, and belong from the start.
func TestAllocateNodesLater(t *testing.T) {
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		in := models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID, BlockKind: models.BlockCustom,
			GPUCount: 8, From: "2027-01-01", To: "2027-01-10", OwnGPUs: true, Nodes: []string{"node-a", "node-z"}}
		if _, errs, err := f.allocate(t, in); !errors.Is(err, models.ErrInvalid) || errs["nodes"] != "gpu.error.unknown_node" {
			t.Fatalf("an unknown node without 'later': %v %v", err, errs)
		}
		in.NodesLater = true
		a, errs, err := f.allocate(t, in)
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		if len(a.GPUs) != 4 || a.PendingNodes != "node-z" {
			t.Fatalf("%d GPUs, pending %q; want node-a's 4 and node-z pending", len(a.GPUs), a.PendingNodes)
		}
		// Not seen yet: still unknown.
		if errs, err := models.AddAllocationGPUs(ctx, db, a.ID, models.GPUAddition{Nodes: []string{"node-z"}}, f.officer, janKST(3, 0)); !errors.Is(err, models.ErrInvalid) || errs["nodes"] != "gpu.error.unknown_node" {
			t.Fatalf("identify before the cluster reports: %v %v", err, errs)
		}
		var seen []models.SeenGPU
		for i := range 4 {
			seen = append(seen, models.SeenGPU{UUID: "GPU-z-" + strconv.Itoa(i), Node: "node-z", Index: i, Model: "NVIDIA B200"})
		}
		if err := models.RecordGPUs(ctx, db, f.cluster.ID, seen, janKST(3, 0)); err != nil {
			t.Fatal(err)
		}
		if errs, err := models.AddAllocationGPUs(ctx, db, a.ID, models.GPUAddition{Nodes: []string{"node-z"}}, f.officer, janKST(3, 0)); err != nil {
			t.Fatalf("identify: %v %v", err, errs)
		}
		got, err := models.GetAllocation(ctx, db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Current()) != 8 || got.PendingNodes != "" {
			t.Errorf("%d GPUs, pending %q; want 8 and none", len(got.Current()), got.PendingNodes)
		}
		for _, g := range got.GPUs {
			if !g.Whole() {
				t.Errorf("GPU %s belongs from %v, want the whole period", g.GPUUUID, g.JoinedAt)
			}
		}
		hist, _ := models.ListAllocationChanges(ctx, db, a.ID)
		if len(hist) != 1 || hist[0].Kind != models.ChangeNodes {
			t.Errorf("history %+v, want one identification", hist)
		}
	})
}

// TestFiguresProrateMinuteChanges: GPU 0 is replaced by GPU 2 at 12:20 KST
// on 2027-01-05; all three report every hour from 01-04 to 01-07. The hour
// 12:00–13:00 counts a third of GPU 0's telemetry and two thirds of GPU 2's,
// so the day has exactly two GPUs' worth and coverage stays at 100 %; event
// counts are whole in an hour the GPU belonged to for any part of.
func TestFiguresProrateMinuteChanges(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		g0, g1, g2 := f.gpus[0].UUID, f.gpus[1].UUID, f.gpus[2].UUID
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2027-01-01", To: "2027-01-10", OwnGPUs: true, UUIDs: []string{g0, g1}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		if errs, err := models.ReplaceAllocationGPU(ctx, db, a.ID, models.GPUReplacement{Old: g0, New: g2,
			At: "2027-01-05 12:20", Reason: "XID 79"}, f.officer, janKST(5, 14)); err != nil {
			t.Fatalf("replace: %v %v", err, errs)
		}
		var rows []models.GPURollup
		for h := janKST(4, 0); h.Before(janKST(7, 0)); h = h.Add(time.Hour) {
			for _, u := range []string{g0, g1, g2} {
				r := rollup(u, u, h, 3600, 1800, 3600*40, 3600*500, 1000)
				r.ClusterID, r.XIDCount = f.cluster.ID, 1
				rows = append(rows, r)
			}
		}
		if err := models.UpsertRollups(ctx, db, rows, janKST(7, 0)); err != nil {
			t.Fatal(err)
		}
		now := janKST(7, 0)
		const third = 1.0 / 3
		for _, tc := range []struct {
			name                    string
			uuid                    string
			from, to                time.Time
			expectedNamed, observed float64 // hours
			xids                    int
		}{
			{"the day of the replacement", "", janKST(5, 0), janKST(6, 0), 48, 48, 24 + 13 + 12},
			{"the hour of the replacement", "", janKST(5, 12), janKST(5, 13), 2, 2, 1 + 1 + 1},
			{"the whole period so far", "", janKST(1, 0), janKST(11, 0), 144 + 72 + 72, 144, 72 + 37 + 36},
			{"GPU 0 that day", g0, janKST(5, 0), janKST(6, 0), 12 + third, 12 + third, 13},
			{"GPU 2 that day", g2, janKST(5, 0), janKST(6, 0), 11 + 2*third, 11 + 2*third, 12},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := models.AllocationGPUSummary(ctx, db, a.ID, tc.uuid, tc.from, tc.to, now)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					name      string
					got, want float64
				}{
					{"expected of the identified", u.ExpectedNamedSeconds / 3600, tc.expectedNamed},
					{"observed", u.ObservedGPUHours(), tc.observed},
					{"busy", u.BusyGPUHours(), tc.observed / 2},
					{"energy kWh", u.EnergyKWh(), tc.observed * 0.5},
					{"mean utilisation", u.MeanUtil(), 40},
					{"XID events", float64(u.XIDCount), float64(tc.xids)},
				} {
					if !approx(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
					}
				}
				if u.NamedCoverage() > 1+1e-9 {
					t.Errorf("coverage %v over 100 %%", u.NamedCoverage())
				}
			})
		}
		full, err := models.GetAllocation(ctx, db, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		per, err := models.AllocationGPUUsage(ctx, db, full, janKST(1, 0), janKST(11, 0))
		if err != nil {
			t.Fatal(err)
		}
		for uuid, want := range map[string]float64{g0: 36 + third, g1: 72, g2: 35 + 2*third} {
			if got := per[uuid].ObservedSeconds / 3600; !approx(got, want) {
				t.Errorf("GPU %s observed %v h, want %v", uuid, got, want)
			}
		}
		// Hourly over the day, daily over the period: two GPUs' worth
		// wherever all three reported.
		for _, c := range []struct {
			from, to time.Time
			step     time.Duration
		}{{janKST(5, 0), janKST(6, 0), time.Hour}, {janKST(1, 0), janKST(11, 0), 24 * time.Hour}} {
			pts, step, err := models.AllocationSeries(ctx, db, full, c.from, c.to, "")
			if err != nil || step != c.step {
				t.Fatalf("series: %s, %v", step, err)
			}
			for _, p := range pts {
				if p.At.Before(janKST(4, 0)) || !p.At.Before(janKST(7, 0)) {
					continue
				}
				if !approx(p.GPUs, 2) || p.Util == nil || !approx(*p.Util, 40) {
					t.Errorf("%s: %v GPUs' worth at %v, want 2 at 40 %%", p.At, p.GPUs, p.Util)
				}
			}
		}
	})
}
