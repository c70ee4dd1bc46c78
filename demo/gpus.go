package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
)

// demoGPUCluster is the simulated cluster of one selected team in the demo.
type demoGPUCluster struct {
	Provider, Region, Model string
}

// demoGPUClusters gives each selected team of the demo a provider and a GPU
// model (the real blocks are 500 × B200 or 1,000 × H-series; the demo
// simulates 64 GPUs of each, so that it runs on a laptop).
var demoGPUClusters = map[string]demoGPUCluster{
	"naver-cloud":    {"네이버클라우드 (Naver Cloud)", "KR-1 춘천", "NVIDIA H200"},
	"upstage":        {"KT클라우드 (KT Cloud)", "KR-Central 천안", "NVIDIA B200"},
	"sk-telecom":     {"SK텔레콤 GPUaaS", "KR-Gasan", "NVIDIA B200"},
	"nc-ai":          {"NHN클라우드 (NHN Cloud)", "KR-Gwangju AI Data Center", "NVIDIA H100 80GB HBM3"},
	"lg-ai-research": {"카카오클라우드 (Kakao Cloud)", "KR-Ansan", "NVIDIA B200"},
}

// Demo GPU telemetry: 64 simulated GPUs a team, polled every 15 s, with a
// day of simulated history so that the charts have something to show.
const (
	GPUsPerTeam       = 64
	demoPollSeconds   = 15
	demoBackfill      = 24 * time.Hour
	demoBackfillEvery = 5 * time.Minute
)

// SeedGPUs gives each selected team of the demo (the leads of the
// selected applications: run SeedApplications first) a simulated cluster
// of GPUsPerTeam GPUs, registers the GPUs the simulator shows, allocates
// them to the team from 2025-09-01 to the end of next year, and folds a day
// of simulated telemetry into rollups. It is idempotent: once a demo
// cluster exists it changes nothing. Without selected teams it does nothing.
func SeedGPUs(ctx context.Context, db *gorm.DB, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Instances starting together seed one after the other.
		if err := lockSeeding(tx); err != nil {
			return err
		}
		// Before any audit row: allocation writers take this lock first.
		if err := models.LockAllocations(tx); err != nil {
			return err
		}
		teams, err := models.SelectedTeams(ctx, tx)
		if err != nil || len(teams) == 0 {
			return err
		}
		clusters, err := models.ListClusters(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo GPUs: %w", err)
		}
		for _, c := range clusters {
			if strings.HasPrefix(c.Name, "demo-") {
				return nil
			}
		}
		officer, err := demoOfficer(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo GPUs: the demo officer: %w", err)
		}
		for i, team := range teams {
			if err := seedDemoTeamGPUs(ctx, tx, team, int64(2025080400+i), officer, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// seedDemoTeamGPUs registers one team's simulated cluster, its GPUs, its
// allocation and a day of its telemetry.
func seedDemoTeamGPUs(ctx context.Context, tx *gorm.DB, team models.Organisation, seed int64, officer *models.User, now time.Time) error {
	d, ok := demoGPUClusters[team.Code]
	if !ok {
		d = demoGPUCluster{"KT클라우드 (KT Cloud)", "KR-Central", "NVIDIA B200"}
	}
	c := &models.Cluster{Name: "demo-" + team.Code, Provider: d.Provider, Region: d.Region, GPUModel: d.Model,
		GPUCount: GPUsPerTeam, SourceKind: models.SourceSimulator, PollSeconds: demoPollSeconds, SimSeed: seed}
	if errs, err := models.SaveCluster(ctx, tx, nil, c, false, officer, now); err != nil {
		return fmt.Errorf("store: seed demo cluster %s: %w (%v)", c.Name, err, errs)
	}
	// The simulator is deterministic: its GPUs are known before the collector first polls.
	sim := dcgm.NewSimulator(dcgm.SimulatorConfigFor(c.ClusterConfig(), func() time.Time { return now }))
	var seen []models.SeenGPU
	var nodes []string
	for _, g := range sim.GPUs() {
		seen = append(seen, models.SeenGPU{UUID: g.UUID, Node: g.Node, Model: g.Model, Index: g.Index})
		if !slices.Contains(nodes, g.Node) {
			nodes = append(nodes, g.Node)
		}
	}
	if err := models.RecordGPUs(ctx, tx, c.ID, seen, now); err != nil {
		return err
	}
	block := "H 시리즈 1,000개"
	if models.BlockFits(models.BlockB200, d.Model) {
		block = "B200 500개"
	}
	note := fmt.Sprintf("데모: %s 블록을 시뮬레이션 GPU %d개로 줄였습니다 (demo: the block simulated with %d GPUs).",
		block, GPUsPerTeam, GPUsPerTeam)
	// The GPUs were lent from the first day of last month, the month the
	// demo's usage reports tell: no earlier month waits for a report.
	lent := models.MonthOf(models.MonthOf(now).First.Start().Add(-time.Hour)).First
	_, errs, err := models.CreateAllocation(ctx, tx, models.AllocationInput{OrganisationID: team.ID, ClusterID: c.ID, BlockKind: models.BlockCustom,
		GPUCount: GPUsPerTeam, From: lent.String(), To: fmt.Sprintf("%d-12-31", models.DateOf(now).Year+1), Nodes: nodes,
		Note: note}, officer, now)
	if err != nil {
		return fmt.Errorf("store: seed demo allocation of %s: %w (%v)", team.Code, err, errs)
	}
	return backfillDemo(ctx, tx, c, now)
}

// backfillDemo folds a day of simulated telemetry (a sample every five
// minutes) into the cluster's rollups, ending at now.
func backfillDemo(ctx context.Context, db *gorm.DB, c *models.Cluster, now time.Time) error {
	at := now.Add(-demoBackfill).Truncate(demoBackfillEvery)
	cfg := dcgm.SimulatorConfigFor(c.ClusterConfig(), func() time.Time { return at })
	cfg.Interval = demoBackfillEvery
	sim := dcgm.NewSimulator(cfg)
	fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: demoBackfillEvery})
	for ; !at.After(now); at = at.Add(demoBackfillEvery) {
		p, err := sim.Poll(ctx)
		if err != nil {
			return fmt.Errorf("store: demo telemetry of %s: %w", c.Name, err)
		}
		for _, s := range p.Samples {
			fold.Add(s)
		}
	}
	rows := append(fold.Flush(now.Add(time.Hour)), fold.Snapshot()...)
	return models.TelemetryStore{DB: db}.UpsertRollups(ctx, c.ID, rows, now)
}
