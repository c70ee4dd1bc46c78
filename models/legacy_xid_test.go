package models_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestLegacyXIDEvents: hours folded before XID events were counted hold
// sample counts; the migration makes each run of consecutive hours with XID
// samples one event, leaves rows counted as events alone, and the daily
// rollups and the allocation's figures follow.
func TestLegacyXIDEvents(t *testing.T) {
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
		g0, g1 := f.gpus[0].UUID, f.gpus[1].UUID
		seventy := 79
		type row struct {
			uuid    string
			hour    int // KST hour of 5 December
			xids    int
			lastXID *int
			want    int
		}
		rows := []row{
			{g0, 1, 240, nil, 1}, // one XID 79 shown for three hours: one event
			{g0, 2, 240, nil, 0},
			{g0, 3, 100, nil, 0},
			{g0, 6, 12, nil, 1},       // a new run after a gap
			{g0, 8, 0, nil, 0},        // no XID
			{g1, 1, 1, nil, 1},        // one sample: one event, unchanged
			{g1, 9, 2, &seventy, 2},   // counted as events already: untouched
			{g1, 10, 3, &seventy, 3},  // consecutive, but events: untouched
			{g1, 11, 240, nil, 0 + 1}, // legacy after event rows: its own run
		}
		var rs []models.GPURollup
		for _, r := range rows {
			x := rollup(r.uuid, r.uuid, decKST(5, r.hour, 0), 3600, 0, 0, 0, 0)
			x.ClusterID, x.XIDCount, x.LastXID = f.cluster.ID, r.xids, r.lastXID
			rs = append(rs, x)
		}
		if err := models.UpsertRollups(ctx, db, rs, gpuNow); err != nil {
			t.Fatal(err)
		}
		if err := db.Transaction(func(tx *gorm.DB) error { return models.LegacyXIDEvents(tx) }); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, r := range rows {
			var got models.GPURollup
			if err := db.Where("device_key = ? AND hour = ?", r.uuid, decKST(5, r.hour, 0)).First(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got.XIDCount != r.want {
				t.Errorf("%s at %02d:00: %d XID events, want %d", r.uuid[:8], r.hour, got.XIDCount, r.want)
			}
			total += r.want
		}
		var day int
		db.Model(&models.GPURollupDay{}).Select("SUM(xid_count)").Where("day = ?", "2026-12-05").Scan(&day)
		if day != total {
			t.Errorf("daily rollups: %d XID events, want %d", day, total)
		}
		for _, rng := range [][2]time.Time{{decKST(1, 0, 0), decKST(31, 0, 0)}, {decKST(5, 0, 0), decKST(5, 12, 0)}} {
			u, err := models.AllocationUsage(ctx, db, a.ID, rng[0], rng[1], decKST(31, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if u.XIDCount != total {
				t.Errorf("allocation %s–%s: %d XID events, want %d", rng[0], rng[1], u.XIDCount, total)
			}
		}
	})
}
