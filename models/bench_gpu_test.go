package models_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The query benchmark of issue 5: a team-month of rollups for 1,000 GPUs
// (1,000 × 720 hours = 720,000 rows) read and summed by AllocationUsage, the
// query a usage-report verification runs. Target: under 200 ms on SQLite
// and on PostgreSQL (set TEST_DATABASE_URL for the second).

const (
	benchGPUs  = 1000
	benchHours = 720 // 30 days
)

func BenchmarkAllocationUsageMonth_SQLite(b *testing.B) {
	benchAllocationMonth(b, testdb.SQLite)
}

func BenchmarkAllocationUsageMonth_Postgres(b *testing.B) {
	benchAllocationMonth(b, testdb.Postgres)
}

// benchAllocationMonth measures, on one month of rollups, AllocationUsage
// (/usage: the totals a usage verification reads) and AllocationSeries
// (/series: the allocation page's chart over the month, one point a day).
func benchAllocationMonth(b *testing.B, kind testdb.Kind) {
	db, a := benchMonth(b, kind)
	from, to := a.Span()
	b.Run("usage", func(b *testing.B) {
		for b.Loop() {
			u, err := models.AllocationUsage(b.Context(), db, a.ID, from, to, to)
			if err != nil {
				b.Fatal(err)
			}
			if u.Devices != benchGPUs || math.Abs(u.ObservedSeconds-benchGPUs*benchHours*3000) > 1 {
				b.Fatalf("usage: %d devices, %v observed GPU-seconds", u.Devices, u.ObservedSeconds)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	})
	b.Run("series", func(b *testing.B) {
		for b.Loop() {
			pts, _, err := models.AllocationSeries(b.Context(), db, a, from, to, "")
			if err != nil {
				b.Fatal(err)
			}
			if len(pts) != benchHours/24 || pts[0].Util == nil {
				b.Fatalf("series: %d points", len(pts))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	})
}

// benchMonth builds an allocation of 1,000 GPUs for the 30 days from
// 2026-01-01 (KST) and a rollup row for every GPU and hour, written by one
// INSERT … SELECT so that setting up takes seconds, not minutes.
func benchMonth(b *testing.B, kind testdb.Kind) (*gorm.DB, *models.Allocation) {
	b.Helper()
	if testing.Short() {
		b.Skip("the 720,000-row setup is skipped in -short mode")
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	db := testdb.Open(b, kind, func() time.Time { return now })
	ctx := b.Context()
	org := &models.Organisation{Code: "bench", NameKO: "벤치", NameEN: "Bench", Kind: models.OrgCompany}
	if err := db.Create(org).Error; err != nil {
		b.Fatal(err)
	}
	by, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "bench", Subject: "o", Name: "o", Role: models.RoleOfficer}, now)
	if err != nil {
		b.Fatal(err)
	}
	c := &models.Cluster{Name: "bench", Provider: "p", Region: "r", GPUModel: "NVIDIA H100 80GB HBM3", GPUCount: benchGPUs,
		SourceKind: models.SourceSimulator, PollSeconds: 15}
	if _, err := models.SaveCluster(ctx, db, nil, c, false, by, now); err != nil {
		b.Fatal(err)
	}
	seen := make([]models.SeenGPU, benchGPUs)
	for i := range seen {
		seen[i] = models.SeenGPU{UUID: fmt.Sprintf("GPU-bench-%04d", i), Node: fmt.Sprintf("node-%03d", i/8), Index: i % 8,
			Model: "NVIDIA H100 80GB HBM3"}
	}
	if err := models.RecordGPUs(ctx, db, c.ID, seen, now); err != nil {
		b.Fatal(err)
	}
	a, errs, err := models.CreateAllocation(ctx, db, models.AllocationInput{OrganisationID: org.ID, ClusterID: c.ID,
		BlockKind: models.BlockHSeries, From: "2026-01-01", To: "2026-01-30", OwnGPUs: true,
		UUIDs: func() []string {
			u := make([]string, len(seen))
			for i, g := range seen {
				u[i] = g.UUID
			}
			return u
		}()}, by, now)
	if err != nil {
		b.Fatalf("allocation: %v %v", err, errs)
	}
	start, _ := a.Span()

	// Every GPU-hour: 3,000 s observed, 2,400 s busy at 60 %, 500 W.
	var insert string
	switch kind {
	case testdb.SQLite:
		insert = fmt.Sprintf(`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < %d),
			h(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM h WHERE j < %d)
			INSERT INTO gpu_rollups (device_key, hour, uuid, cluster_id, node, model, observed_s, active_s, util_sum,
				gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, updated_at)
			SELECT printf('GPU-bench-%%04d', i), strftime('%%Y-%%m-%%d %%H:%%M:%%S', %d + j * 3600, 'unixepoch') || '+00:00',
				printf('GPU-bench-%%04d', i), %d, printf('node-%%03d', i / 8), 'NVIDIA H100 80GB HBM3',
				3000, 2400, 3000 * 60, 3000 * 0.55, 3000 * 0.5, 3000 * 500, 60000 + (i %% 1000), 0, 200, '2026-02-01 00:00:00+00:00'
			FROM g, h`, benchGPUs-1, benchHours-1, start.Unix(), c.ID)
	case testdb.Postgres:
		insert = fmt.Sprintf(`INSERT INTO gpu_rollups (device_key, hour, uuid, cluster_id, node, model, observed_s, active_s,
				util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, updated_at)
			SELECT 'GPU-bench-' || lpad(i::text, 4, '0'), to_timestamp(%d) + j * interval '1 hour',
				'GPU-bench-' || lpad(i::text, 4, '0'), %d, 'node-' || lpad((i / 8)::text, 3, '0'), 'NVIDIA H100 80GB HBM3',
				3000, 2400, 3000 * 60, 3000 * 0.55, 3000 * 0.5, 3000 * 500, 60000 + (i %% 1000), 0, 200, now()
			FROM generate_series(0, %d) AS i, generate_series(0, %d) AS j`, start.Unix(), c.ID, benchGPUs-1, benchHours-1)
	}
	began := time.Now()
	if err := db.Exec(insert).Error; err != nil {
		b.Fatalf("bulk insert: %v", err)
	}
	from, to := a.Period()
	if err := models.RebuildRollupDays(ctx, db, from, to, now); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	var n int64
	db.Model(&models.GPURollup{}).Count(&n)
	if n != benchGPUs*benchHours {
		b.Fatalf("%d rollup rows, want %d", n, benchGPUs*benchHours)
	}
	b.Logf("%s: %d rollup rows written in %s", kind, n, time.Since(began).Round(time.Millisecond))
	if a, err = models.GetAllocation(ctx, db, a.ID); err != nil {
		b.Fatal(err)
	}
	return db, a
}
