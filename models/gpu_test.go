package models_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// gpuFixture is a cluster with discovered GPUs, two teams and an officer.
type gpuFixture struct {
	db          *gorm.DB
	officer     *models.User
	teamA       *models.Organisation
	teamB       *models.Organisation
	cluster     *models.Cluster
	hCluster    *models.Cluster
	gpus        []models.GPU // the B200 cluster's GPUs: node-a GPUs 0–3, node-b GPUs 0–3
	hGPUs       []models.GPU
	now         time.Time
	allocations int
}

var gpuNow = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func newGPUFixture(t *testing.T, db *gorm.DB) *gpuFixture {
	t.Helper()
	ctx := t.Context()
	f := &gpuFixture{db: db, now: gpuNow}
	f.teamA = &models.Organisation{Code: "team-a", NameKO: "가팀", NameEN: "Team A", Kind: models.OrgCompany}
	f.teamB = &models.Organisation{Code: "team-b", NameKO: "나팀", NameEN: "Team B", Kind: models.OrgCompany}
	for _, o := range []*models.Organisation{f.teamA, f.teamB} {
		if err := db.Create(o).Error; err != nil {
			t.Fatal(err)
		}
	}
	var err error
	f.officer, err = models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "officer", Name: "담당관",
		Role: models.RoleOfficer}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	f.cluster = f.newCluster(t, "b200-test", "NVIDIA B200", "node-a", "node-b")
	f.hCluster = f.newCluster(t, "h100-test", "NVIDIA H100 80GB HBM3", "h-node")
	if f.gpus, err = models.ListClusterGPUs(ctx, db, f.cluster.ID); err != nil || len(f.gpus) != 8 {
		t.Fatalf("GPUs of the B200 cluster: %d, %v", len(f.gpus), err)
	}
	if f.hGPUs, err = models.ListClusterGPUs(ctx, db, f.hCluster.ID); err != nil || len(f.hGPUs) != 4 {
		t.Fatalf("GPUs of the H100 cluster: %d, %v", len(f.hGPUs), err)
	}
	return f
}

// newCluster registers a simulated cluster and discovers four GPUs per node.
func (f *gpuFixture) newCluster(t *testing.T, name, model string, nodes ...string) *models.Cluster {
	t.Helper()
	c := &models.Cluster{Name: name, Provider: "KT Cloud", Region: "KR-Central", GPUModel: model, GPUCount: 4 * len(nodes),
		SourceKind: models.SourceSimulator, PollSeconds: 10, SimSeed: 1}
	if errs, err := models.SaveCluster(t.Context(), f.db, testSecrets, c, false, f.officer, f.now); err != nil {
		t.Fatalf("save cluster %s: %v %v", name, err, errs)
	}
	var seen []models.SeenGPU
	for _, n := range nodes {
		for i := range 4 {
			seen = append(seen, models.SeenGPU{UUID: fmt.Sprintf("GPU-%s-%s-%d", name, n, i), Node: n, Index: i, Model: model})
		}
	}
	if err := models.RecordGPUs(t.Context(), f.db, c.ID, seen, f.now); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *gpuFixture) allocate(t *testing.T, in models.AllocationInput) (*models.Allocation, models.FieldErrors, error) {
	t.Helper()
	return models.CreateAllocation(t.Context(), f.db, in, f.officer, f.now)
}

func TestClusterValidate(t *testing.T) {
	t.Parallel()
	base := func() models.Cluster {
		return models.Cluster{Name: "c", Provider: "p", Region: "r", GPUModel: "NVIDIA B200", GPUCount: 8,
			SourceKind: models.SourceExporter, Endpoints: "http://10.0.0.1:9400/metrics\nhttps://node2:9400/metrics", PollSeconds: 15}
	}
	cases := []struct {
		name   string
		change func(*models.Cluster)
		field  string // "" means valid
	}{
		{"valid exporter", func(*models.Cluster) {}, ""},
		{"valid simulator without endpoints", func(c *models.Cluster) { c.SourceKind, c.Endpoints = models.SourceSimulator, "" }, ""},
		{"valid hostengine", func(c *models.Cluster) {
			c.SourceKind, c.Endpoints = models.SourceHostengine, "10.0.0.5:5555\nnode7\n[fd00::1]:5555\nunix:///run/nv-hostengine.sock"
		}, ""},
		{"no name", func(c *models.Cluster) { c.Name = " " }, "name"},
		{"no model", func(c *models.Cluster) { c.GPUModel = "" }, "gpu_model"},
		{"no GPUs", func(c *models.Cluster) { c.GPUCount = 0 }, "gpu_count"},
		{"poll too fast", func(c *models.Cluster) { c.PollSeconds = 0 }, "poll_seconds"},
		{"poll too slow", func(c *models.Cluster) { c.PollSeconds = 7200 }, "poll_seconds"},
		{"unknown source", func(c *models.Cluster) { c.SourceKind = "snmp" }, "source_kind"},
		{"exporter without endpoint", func(c *models.Cluster) { c.Endpoints = "\n \n" }, "endpoints"},
		{"exporter endpoint not a URL", func(c *models.Cluster) { c.Endpoints = "10.0.0.1:9400" }, "endpoints"},
		{"exporter endpoint with credentials", func(c *models.Cluster) { c.Endpoints = "http://u:p@h/metrics" }, "endpoints"},
		{"hostengine endpoint is a URL", func(c *models.Cluster) {
			c.SourceKind, c.Endpoints = models.SourceHostengine, "http://10.0.0.5:5555"
		}, "endpoints"},
		{"hostengine bad port", func(c *models.Cluster) { c.SourceKind, c.Endpoints = models.SourceHostengine, "h:99999" }, "endpoints"},
		{"token with a space", func(c *models.Cluster) { c.BearerToken = "abc def" }, "bearer_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			errs := c.Validate()
			if tc.field == "" {
				if errs.Any() {
					t.Errorf("errors %v, want none", errs)
				}
				return
			}
			if !errs.Has(tc.field) {
				t.Errorf("errors %v, want one on %q", errs, tc.field)
			}
		})
	}
}

func TestSaveCluster(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		c := &models.Cluster{Name: "exp", Provider: "NHN Cloud", Region: "KR-Pangyo", GPUModel: "NVIDIA H200", GPUCount: 16,
			SourceKind: models.SourceExporter, Endpoints: " http://n1:9400/metrics \n\nhttp://n2:9400/metrics",
			PollSeconds: 30, BearerToken: "secret-token-0123456789"}
		if errs, err := models.SaveCluster(ctx, db, testSecrets, c, false, f.officer, f.now); err != nil {
			t.Fatalf("create: %v %v", err, errs)
		}
		if got := c.EndpointList(); len(got) != 2 || got[0] != "http://n1:9400/metrics" {
			t.Errorf("endpoints stored as %q", got)
		}

		// A blank token on edit keeps the stored one; clearToken removes it.
		edit := *c
		edit.BearerToken, edit.Region = "", "KR-Seoul"
		if _, err := models.SaveCluster(ctx, db, testSecrets, &edit, false, f.officer, f.now); err != nil {
			t.Fatal(err)
		}
		got, err := models.GetCluster(ctx, db, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tok, err := testSecrets.Open(got.SealedToken); tok != "secret-token-0123456789" || err != nil || got.Region != "KR-Seoul" {
			t.Errorf("after edit: token %q (%v), region %q", tok, err, got.Region)
		}
		if _, err := models.SaveCluster(ctx, db, testSecrets, &edit, true, f.officer, f.now); err != nil {
			t.Fatal(err)
		}
		if got, _ = models.GetCluster(ctx, db, c.ID); got.HasToken() {
			t.Errorf("token not cleared: %q", got.SealedToken)
		}

		// A name in use is a field error; so is an invalid cluster.
		dup := *c
		dup.ID = 0
		errs, err := models.SaveCluster(ctx, db, testSecrets, &dup, false, f.officer, f.now)
		if !errors.Is(err, models.ErrInvalid) || !errs.Has("name") {
			t.Errorf("duplicate name: %v %v, want ErrInvalid on name", err, errs)
		}
		bad := models.Cluster{Name: "x"}
		if errs, err := models.SaveCluster(ctx, db, testSecrets, &bad, false, f.officer, f.now); !errors.Is(err, models.ErrInvalid) || !errs.Has("gpu_count") {
			t.Errorf("invalid cluster: %v %v", err, errs)
		}
		missing := *c
		missing.ID = 99999
		if _, err := models.SaveCluster(ctx, db, testSecrets, &missing, false, f.officer, f.now); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown cluster: %v, want ErrNotFound", err)
		}

		// Each change is audited, never with the token.
		var audit []models.AuditEntry
		db.Where("object_type = ?", "cluster").Order("id").Find(&audit)
		if len(audit) != 5 { // two fixture clusters, the create and two edits
			t.Errorf("%d cluster audit rows, want 5", len(audit))
		}
		for _, a := range audit {
			if strings.Contains(a.Summary, "secret-token") {
				t.Errorf("audit row %d shows the token: %s", a.ID, a.Summary)
			}
		}
	})
}

func TestClusterStatusAndDiscovery(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		at := f.now.Add(time.Minute)
		if err := models.RecordClusterStatus(ctx, db, f.cluster.ID, models.ClusterStatus{At: at, OK: true, GPUsSeen: 8}); err != nil {
			t.Fatal(err)
		}
		if err := models.RecordClusterStatus(ctx, db, f.cluster.ID, models.ClusterStatus{At: at.Add(time.Minute), Err: "connection refused", GPUsSeen: 0}); err != nil {
			t.Fatal(err)
		}
		c, _ := models.GetCluster(ctx, db, f.cluster.ID)
		if c.LastSuccessAt == nil || !c.LastSuccessAt.Equal(at) || c.LastError != "connection refused" || c.Healthy() {
			t.Errorf("status: success %v, error %q, healthy %t", c.LastSuccessAt, c.LastError, c.Healthy())
		}
		if err := models.RecordClusterStatus(ctx, db, f.cluster.ID, models.ClusterStatus{At: at.Add(2 * time.Minute), OK: true, GPUsSeen: 8}); err != nil {
			t.Fatal(err)
		}
		if c, _ = models.GetCluster(ctx, db, f.cluster.ID); !c.Healthy() || c.GPUsSeen != 8 || c.LastError != "connection refused" {
			t.Errorf("after recovery: healthy %t, seen %d, last error %q (kept)", c.Healthy(), c.GPUsSeen, c.LastError)
		}

		// Seeing a GPU again keeps when it was first seen and moves it.
		later := f.now.Add(time.Hour)
		g := f.gpus[0]
		if err := models.RecordGPUs(ctx, db, f.cluster.ID, []models.SeenGPU{{UUID: g.UUID, Node: "node-z", Index: 7, Model: g.Model}}, later); err != nil {
			t.Fatal(err)
		}
		var got models.GPU
		db.Where("uuid = ?", g.UUID).First(&got)
		if !got.FirstSeen.Equal(f.now) || !got.LastSeen.Equal(later) || got.Node != "node-z" || got.Index != 7 {
			t.Errorf("rediscovered GPU: %+v", got)
		}
		nodes := models.Nodes(f.gpus)
		if len(nodes) != 2 || nodes[0] != (models.NodeGPUs{Node: "node-a", Count: 4}) {
			t.Errorf("Nodes = %+v", nodes)
		}
	})
}

func TestAllocationOverlap(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		first, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 4, From: "2026-01-01", To: "2026-01-31", OwnGPUs: true, Nodes: []string{"node-a"}})
		if err != nil {
			t.Fatalf("first allocation: %v %v", err, errs)
		}
		if len(first.GPUs) != 4 {
			t.Fatalf("by node: %d GPUs, want 4", len(first.GPUs))
		}

		// The same GPU for an overlapping period (even one shared day) is refused, naming both.
		for _, period := range [][2]string{{"2026-01-31", "2026-02-28"}, {"2025-12-01", "2026-01-01"}, {"2026-01-10", "2026-01-11"}, {"2025-01-01", "2027-01-01"}} {
			_, _, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
				BlockKind: models.BlockCustom, GPUCount: 2, From: period[0], To: period[1], OwnGPUs: true,
				UUIDs: []string{f.gpus[4].UUID, f.gpus[2].UUID}})
			var conflict *models.AllocationConflictError
			if !errors.As(err, &conflict) || !errors.Is(err, models.ErrConflict) {
				t.Fatalf("period %v: %v, want an AllocationConflictError", period, err)
			}
			if conflict.GPU != f.gpus[2].UUID || conflict.AllocationID != first.ID || conflict.Team != "가팀" ||
				conflict.From != "2026-01-01" || conflict.To != "2026-01-31" {
				t.Errorf("period %v: conflict %+v", period, conflict)
			}
		}
		var n int64
		db.Model(&models.Allocation{}).Count(&n)
		if n != 1 {
			t.Errorf("%d allocations after refusals, want 1", n)
		}

		// Adjacent periods do not overlap; other GPUs for the same period are free.
		if _, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 4, From: "2026-02-01", To: "2026-02-28", OwnGPUs: true, Nodes: []string{"node-a"}}); err != nil {
			t.Errorf("adjacent period: %v %v", err, errs)
		}
		if _, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 4, From: "2026-01-01", To: "2026-01-31", OwnGPUs: true,
			UUIDs: models.ParseUUIDList(f.gpus[4].UUID + ", " + f.gpus[5].UUID + "\n" + f.gpus[5].UUID)}); err != nil {
			t.Errorf("other GPUs: %v %v", err, errs)
		}

		rows, err := models.ListAllocations(ctx, db, nil)
		if err != nil || len(rows) != 3 {
			t.Fatalf("ListAllocations: %d, %v", len(rows), err)
		}
		own, _ := models.ListAllocations(ctx, db, &f.teamA.ID)
		if len(own) != 1 || own[0].Named != 4 || own[0].Organisation.NameKO != "가팀" || own[0].Cluster.Name != "b200-test" {
			t.Errorf("team A's allocations: %+v", own)
		}
		got, err := models.GetAllocation(ctx, db, first.ID)
		if err != nil || len(got.GPUs) != 4 || !got.Has(f.gpus[0].UUID) || got.Has(f.gpus[4].UUID) {
			t.Errorf("GetAllocation: %v, %+v", err, got)
		}
		if _, err := models.GetAllocation(ctx, db, 99999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown allocation: %v", err)
		}
		var audit int64
		db.Model(&models.AuditEntry{}).Where("action = ?", "allocation.create").Count(&audit)
		if audit != 3 {
			t.Errorf("%d allocation audit rows, want 3", audit)
		}
	})
}

func TestAllocationBlocks(t *testing.T) {
	t.Parallel()
	if models.BlockSize(models.BlockB200) != 500 || models.BlockSize(models.BlockHSeries) != 1000 || models.BlockSize(models.BlockCustom) != 0 {
		t.Errorf("block sizes")
	}
	for _, tc := range []struct {
		kind, model string
		fits        bool
	}{
		{models.BlockB200, "NVIDIA B200", true}, {models.BlockB200, "NVIDIA H100 80GB HBM3", false},
		{models.BlockHSeries, "NVIDIA H100 80GB HBM3", true}, {models.BlockHSeries, "NVIDIA H200", true},
		{models.BlockHSeries, "NVIDIA H20", true}, {models.BlockHSeries, "NVIDIA B200", false},
		{models.BlockHSeries, "NVIDIA A100-SXM4-80GB", false}, {models.BlockCustom, "NVIDIA A100", true},
	} {
		if got := models.BlockFits(tc.kind, tc.model); got != tc.fits {
			t.Errorf("BlockFits(%s, %s) = %t", tc.kind, tc.model, got)
		}
	}

	// Defaults: a standard block takes its size; a custom one needs a count.
	in := models.AllocationInput{OrganisationID: 1, ClusterID: 1, BlockKind: models.BlockB200, From: "2026-01-01", To: "2026-06-30", UUIDs: []string{"x"}}
	if errs := in.Validate(); errs.Any() || in.GPUCount != 500 {
		t.Errorf("B200 block: %v, count %d", errs, in.GPUCount)
	}
	in = models.AllocationInput{OrganisationID: 1, ClusterID: 1, BlockKind: models.BlockHSeries, From: "2026-01-01", To: "2026-06-30", UUIDs: []string{"x"}}
	if errs := in.Validate(); errs.Any() || in.GPUCount != 1000 {
		t.Errorf("H block: %v, count %d", errs, in.GPUCount)
	}
	for name, tc := range map[string]struct {
		in    models.AllocationInput
		field string
	}{
		"B200 block of 64":   {models.AllocationInput{BlockKind: models.BlockB200, GPUCount: 64}, "gpu_count"},
		"custom without n":   {models.AllocationInput{BlockKind: models.BlockCustom}, "gpu_count"},
		"unknown block":      {models.AllocationInput{BlockKind: "a100-8"}, "block_kind"},
		"no team":            {models.AllocationInput{BlockKind: models.BlockCustom, GPUCount: 1}, "organisation_id"},
		"no cluster":         {models.AllocationInput{BlockKind: models.BlockCustom, GPUCount: 1}, "cluster_id"},
		"no GPUs":            {models.AllocationInput{BlockKind: models.BlockCustom, GPUCount: 1}, "gpus"},
		"bad date":           {models.AllocationInput{From: "2026-02-30"}, "from"},
		"to before from":     {models.AllocationInput{From: "2026-03-01", To: "2026-02-01"}, "to"},
		"custom of 0 with n": {models.AllocationInput{BlockKind: models.BlockCustom, GPUCount: -1}, "gpu_count"},
	} {
		if errs := tc.in.Validate(); !errs.Has(tc.field) {
			t.Errorf("%s: errors %v, want one on %s", name, errs, tc.field)
		}
	}

	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		f := newGPUFixture(t, db)
		check := func(name string, in models.AllocationInput, field string) {
			t.Helper()
			_, errs, err := f.allocate(t, in)
			if !errors.Is(err, models.ErrInvalid) || !errs.Has(field) {
				t.Errorf("%s: %v %v, want ErrInvalid on %s", name, err, errs, field)
			}
		}
		period := func(in models.AllocationInput) models.AllocationInput {
			in.From, in.To = "2026-01-01", "2026-06-30"
			return in
		}
		// A team that was not selected gets GPUs only as its own.
		check("not selected", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, Nodes: []string{"node-a"}}), "organisation_id")
		check("unknown team", period(models.AllocationInput{OrganisationID: 9999, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, OwnGPUs: true, Nodes: []string{"node-a"}}), "organisation_id")
		check("unknown cluster", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: 9999,
			BlockKind: models.BlockB200, OwnGPUs: true, Nodes: []string{"node-a"}}), "cluster_id")
		check("unknown GPU", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, OwnGPUs: true, UUIDs: []string{"GPU-nope"}}), "uuids")
		check("GPU of another cluster", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, OwnGPUs: true, UUIDs: []string{f.hGPUs[0].UUID}}), "uuids")
		check("unknown node", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, OwnGPUs: true, Nodes: []string{"node-q"}}), "nodes")
		check("H100 in a B200 block", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.hCluster.ID,
			BlockKind: models.BlockB200, OwnGPUs: true, Nodes: []string{"h-node"}}), "gpus")
		check("more GPUs than the block", period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 3, OwnGPUs: true, Nodes: []string{"node-a"}}), "gpus")

		// Part of a standard block may be named now, the rest later.
		a, errs, err := f.allocate(t, period(models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.hCluster.ID,
			BlockKind: models.BlockHSeries, OwnGPUs: true, Nodes: []string{"h-node"}, Note: "first node delivered"}))
		if err != nil || a.GPUCount != 1000 || len(a.GPUs) != 4 || a.Note != "first node delivered" {
			t.Fatalf("H block in part: %v %v %+v", err, errs, a)
		}

		// A team whose agreement holds for the period gets a block
		// without the own-GPU flag; being selected is not enough.
		prog := models.Programme{Code: "p", NameKO: "p", NameEN: "p", MinistryKO: "m", MinistryEN: "m"}
		if err := db.Create(&prog).Error; err != nil {
			t.Fatal(err)
		}
		c := models.Call{ProgrammeID: prog.ID, TitleKO: "공모", TitleEN: "call", OpensAt: f.now.Add(-48 * time.Hour),
			ClosesAt: f.now.Add(-24 * time.Hour), Slots: 1}
		if err := db.Omit("Criteria", "Documents").Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		app := models.Application{CallID: c.ID, LeadOrgID: f.teamB.ID, TitleKO: "t", TitleEN: "t", Summary: "s", Status: models.StatusSelected}
		if err := db.Omit("Members", "Documents").Create(&app).Error; err != nil {
			t.Fatal(err)
		}
		if _, errs, err := f.allocate(t, period(models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, Nodes: []string{"node-a", "node-b"}})); !errors.Is(err, models.ErrInvalid) || errs["organisation_id"] != "gpu.error.not_selected" {
			t.Errorf("selected team without agreement: %v %v", err, errs)
		}
		giveAgreement(t, db, &app, "2025-12-01", "2026-12-31", false, f.officer, kst(2025, 11, 20, 10, 0, 0))
		teams, err := models.SelectedTeams(t.Context(), db)
		if err != nil || len(teams) != 1 || teams[0].ID != f.teamB.ID {
			t.Fatalf("SelectedTeams = %+v, %v", teams, err)
		}
		if _, errs, err := f.allocate(t, period(models.AllocationInput{OrganisationID: f.teamB.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockB200, Nodes: []string{"node-a", "node-b"}})); err != nil {
			t.Errorf("selected team's block: %v %v", err, errs)
		}
	})
}

// rollup builds a stored rollup row.
func rollup(key, uuid string, hour time.Time, observed, active, util, energy, fb float64) models.GPURollup {
	return models.GPURollup{DeviceKey: key, UUID: uuid, Hour: hour, ClusterID: 1, Node: "n", Model: "NVIDIA B200",
		ObservedS: observed, ActiveS: active, UtilSum: util, EnergyJ: energy, MaxFBMiB: fb, Samples: int(observed / 10)}
}

func TestUpsertRollupsReplaces(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		h := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
		rows := []models.GPURollup{rollup("GPU-1", "GPU-1", h, 600, 300, 30000, 6e5, 1000),
			rollup("GPU-1", "GPU-1", h.Add(time.Hour), 60, 0, 0, 1e4, 10)}
		for range 3 { // the same totals written again change nothing
			if err := models.UpsertRollups(ctx, db, append([]models.GPURollup(nil), rows...), gpuNow); err != nil {
				t.Fatal(err)
			}
		}
		var n int64
		db.Model(&models.GPURollup{}).Count(&n)
		if n != 2 {
			t.Fatalf("%d rows after three identical upserts, want 2", n)
		}
		// The collector's next write carries the hour's totals so far: they replace.
		grown := rollup("GPU-1", "GPU-1", h.Add(30*time.Minute), 1200, 900, 90000, 1.2e6, 800)
		if err := models.UpsertRollups(ctx, db, []models.GPURollup{grown}, gpuNow); err != nil {
			t.Fatal(err)
		}
		got, err := models.ClusterRollupsSince(ctx, db, 1, h)
		if err != nil || len(got) != 2 {
			t.Fatalf("ClusterRollupsSince: %d, %v", len(got), err)
		}
		r := got[0]
		if !r.Hour.Equal(h) || r.ObservedS != 1200 || r.ActiveS != 900 || r.EnergyJ != 1.2e6 || r.MaxFBMiB != 800 || r.Samples != 120 {
			t.Errorf("after the second write: %+v", r)
		}
		if later, _ := models.ClusterRollupsSince(ctx, db, 1, h.Add(time.Hour)); len(later) != 1 {
			t.Errorf("rollups since the second hour: %d, want 1", len(later))
		}
		// The day's rollup follows: both hours are on 2026-01-05 KST.
		var days []models.GPURollupDay
		db.Find(&days)
		if len(days) != 1 || days[0].Day != "2026-01-05" || days[0].ObservedS != 1260 || days[0].Hours != 2 ||
			days[0].MaxFBMiB != 800 || days[0].EnergyJ != 1.21e6 {
			t.Errorf("daily rollups %+v", days)
		}
	})
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestAllocationUsageAndSeries(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		// Team A has node-a's GPUs 0 and 1 on 2026-01-01..2026-01-02 KST.
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2026-01-01", To: "2026-01-02", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID, f.gpus[1].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		g0, g1, other := f.gpus[0].UUID, f.gpus[1].UUID, f.gpus[2].UUID
		start, end := a.Span()
		if want := time.Date(2025, 12, 31, 15, 0, 0, 0, time.UTC); !start.Equal(want) || !end.Equal(want.Add(48*time.Hour)) {
			t.Fatalf("Span = %s – %s", start, end)
		}
		h0 := start
		rows := []models.GPURollup{
			// Hour 0: GPU 0 fully observed at 50 %, 700 W; GPU 1 half observed, idle, 100 W.
			rollup(g0, g0, h0, 3600, 3600, 3600*50, 3600*700, 150000),
			rollup(g1, g1, h0, 1800, 0, 0, 1800*100, 2000),
			// Hour 1: nothing (a gap). Hour 2: GPU 1 in MIG mode, half busy; its
			// instance is a breakdown of the GPU's hour, not added to it.
			rollup(g1, g1, h0.Add(2*time.Hour), 3600, 1800, 3600*25, 3600*200, 40000),
			rollup(g1+"/1", g1, h0.Add(2*time.Hour), 3600, 1800, 3600*50, 0, 40000),
			// Before and after the period, and another GPU: not counted.
			rollup(g0, g0, h0.Add(-time.Hour), 3600, 3600, 3600*100, 3600*700, 1),
			rollup(g0, g0, end, 3600, 3600, 3600*100, 3600*700, 1),
			rollup(other, other, h0, 3600, 3600, 3600*100, 3600*700, 1),
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}

		// A range wider than the period is clipped to it.
		u, err := models.AllocationUsage(ctx, db, a.ID, start.Add(-30*24*time.Hour), end.Add(30*24*time.Hour), gpuNow)
		if err != nil {
			t.Fatal(err)
		}
		wantObserved := 3600.0 + 1800 + 3600
		checks := []struct {
			name      string
			got, want float64
		}{
			{"GPUs", float64(u.GPUs), 2},
			{"expected GPU-seconds", u.ExpectedSeconds, 2 * 48 * 3600},
			{"observed GPU-seconds", u.ObservedSeconds, wantObserved},
			{"busy GPU-hours", u.BusyGPUHours(), (3600 + 1800) / 3600.0},
			{"mean util", u.MeanUtil(), (3600*50 + 3600*25) / wantObserved},
			{"energy kWh", u.EnergyKWh(), (3600*700 + 1800*100 + 3600*200) / 3.6e6},
			{"coverage", u.Coverage(), wantObserved / (2 * 48 * 3600)},
			{"max FB", u.MaxFBMiB, 150000},
			{"devices", float64(u.Devices), 2},
			{"MIG instances", float64(u.Instances), 1},
		}
		for _, c := range checks {
			if !approx(c.got, c.want) {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		if !u.From.Equal(start) || !u.To.Equal(end) {
			t.Errorf("clipped range %s – %s, want the period", u.From, u.To)
		}

		// A narrower range: only hour 0.
		u, _ = models.AllocationUsage(ctx, db, a.ID, h0, h0.Add(time.Hour), gpuNow)
		if !approx(u.ObservedSeconds, 5400) || !approx(u.ExpectedSeconds, 7200) || !approx(u.Coverage(), 0.75) {
			t.Errorf("hour 0: observed %v expected %v", u.ObservedSeconds, u.ExpectedSeconds)
		}
		// Nothing observed: zeros, not NaN.
		u, _ = models.AllocationUsage(ctx, db, a.ID, h0.Add(5*time.Hour), h0.Add(6*time.Hour), gpuNow)
		if u.ObservedSeconds != 0 || u.MeanUtil() != 0 || u.Coverage() != 0 {
			t.Errorf("empty hour: %+v", u)
		}
		if _, err := models.AllocationUsage(ctx, db, 99999, h0, end, gpuNow); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown allocation: %v", err)
		}

		// The chart: one point per hour, nil in the gap.
		a, _ = models.GetAllocation(ctx, db, a.ID)
		pts, step, err := models.AllocationSeries(ctx, db, a, h0, h0.Add(3*time.Hour), "")
		if err != nil || len(pts) != 3 || step != time.Hour {
			t.Fatalf("series: %d points of %s, %v", len(pts), step, err)
		}
		if p := pts[0]; p.Util == nil || !approx(*p.Util, 3600*50/5400.0) || !approx(*p.Power, 800) ||
			!approx(*p.MemoryMiB, 150000) || !approx(p.GPUs, 1.5) {
			t.Errorf("hour 0: %+v", p)
		}
		if p := pts[1]; p.Util != nil || p.Power != nil || p.GPUs != 0 {
			t.Errorf("the gap has values: %+v", p)
		}
		if p := pts[2]; p.Util == nil || !approx(*p.Util, 25) || !approx(*p.Power, 200) {
			t.Errorf("hour 2: %+v", p)
		}
		// One GPU's series; a GPU outside the allocation is not found.
		pts, _, err = models.AllocationSeries(ctx, db, a, h0, h0.Add(3*time.Hour), g0)
		if err != nil || pts[0].Util == nil || !approx(*pts[0].Util, 50) || pts[2].Util != nil {
			t.Errorf("GPU 0's series: %v %+v", err, pts)
		}
		if _, _, err := models.AllocationSeries(ctx, db, a, h0, end, other); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("series of a GPU outside the allocation: %v", err)
		}
	})
}

func TestClusterLease(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		other := testdb.OpenAgain(t, db, func() time.Time { return gpuNow }) // a second instance
		now := gpuNow
		ttl := 90 * time.Second
		acquire := func(db *gorm.DB, owner string, at time.Time) bool {
			t.Helper()
			ok, err := models.AcquireClusterLease(ctx, db, 7, owner, ttl, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire(db, "alpha", now) {
			t.Fatal("alpha did not get a free lease")
		}
		if acquire(other, "beta", now.Add(time.Second)) {
			t.Fatal("beta took alpha's live lease")
		}
		if !acquire(db, "alpha", now.Add(60*time.Second)) { // renewal
			t.Fatal("alpha could not renew")
		}
		if acquire(other, "beta", now.Add(120*time.Second)) { // alpha's renewal holds until 150 s
			t.Fatal("beta took the renewed lease before it expired")
		}
		if !acquire(other, "beta", now.Add(150*time.Second)) {
			t.Fatal("beta could not take the expired lease")
		}
		if acquire(db, "alpha", now.Add(151*time.Second)) {
			t.Fatal("alpha took back beta's lease")
		}
		// Release by someone else changes nothing; by the owner frees it.
		if err := models.ReleaseClusterLease(ctx, db, 7, "alpha"); err != nil {
			t.Fatal(err)
		}
		if acquire(db, "alpha", now.Add(152*time.Second)) {
			t.Fatal("alpha's release freed beta's lease")
		}
		if err := models.ReleaseClusterLease(ctx, other, 7, "beta"); err != nil {
			t.Fatal(err)
		}
		if !acquire(db, "alpha", now.Add(153*time.Second)) {
			t.Fatal("the released lease is not free")
		}
		// Leases are per cluster.
		if ok, _ := models.AcquireClusterLease(ctx, other, 8, "beta", ttl, now.Add(153*time.Second)); !ok {
			t.Error("beta could not take another cluster")
		}
	})
}

func TestTelemetryStore(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		s := models.TelemetryStore{DB: db}
		cfgs, err := s.Clusters(ctx)
		if err != nil || len(cfgs) != 2 {
			t.Fatalf("Clusters: %d, %v", len(cfgs), err)
		}
		if c := cfgs[0]; c.Name != "b200-test" || c.Kind != dcgm.KindSimulator || c.Interval != 10*time.Second || c.GPUCount != 8 || c.Seed != 1 {
			t.Errorf("cluster config %+v", c)
		}

		h := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
		// A GPU (its last XID and an energy anomaly kept) and one of its MIG instances.
		in := []dcgm.Rollup{
			{Key: "GPU-x", UUID: "GPU-x", Hour: h, Node: "n", Model: "m", ObservedSeconds: 60, ActiveSeconds: 30,
				UtilSum: 1500, GRActiveSum: 12, SMActiveSum: 10, EnergyJ: 4000, MaxFBMiB: 512, XIDCount: 1, LastXID: 79, XIDSeen: true,
				EnergyAnomalies: 2, Samples: 6, BusyThresholdPct: 5, Workloads: map[string]dcgm.WorkloadTime{
					"slurm:4711": {ObservedSeconds: 40, ActiveSeconds: 30}, "k8s:team-a/train-0": {ObservedSeconds: 20}}},
			{Key: "GPU-x/1", UUID: "GPU-x", MIG: "1", Profile: "3g.40gb", Hour: h, Node: "n", Model: "m", ObservedSeconds: 60,
				ActiveSeconds: 30, UtilSum: 3000, GRActiveSum: 30, MaxFBMiB: 100, Samples: 6},
		}
		if err := s.UpsertRollups(ctx, f.cluster.ID, in, gpuNow); err != nil {
			t.Fatal(err)
		}
		out, err := s.StoredRollups(ctx, f.cluster.ID, h)
		if err != nil || len(out) != 2 {
			t.Fatalf("StoredRollups: %d, %v", len(out), err)
		}
		for i := range in {
			if !reflect.DeepEqual(out[i], in[i]) {
				t.Errorf("round trip:\n got %+v\nwant %+v", out[i], in[i])
			}
		}
		if other, _ := s.StoredRollups(ctx, f.hCluster.ID, h); len(other) != 0 {
			t.Errorf("another cluster's rollups: %d", len(other))
		}
		if err := s.RecordStatus(ctx, f.cluster.ID, dcgm.Status{At: gpuNow, OK: true, Err: "1 of 2 endpoints failed", GPUsSeen: 4}); err != nil {
			t.Fatal(err)
		}
		c, _ := models.GetCluster(ctx, db, f.cluster.ID)
		if c.LastSuccessAt == nil || c.LastErrorAt == nil || c.LastError != "1 of 2 endpoints failed" || c.GPUsSeen != 4 || c.Healthy() {
			t.Errorf("partial status: %+v", c)
		}
		if err := s.RecordGPUs(ctx, f.cluster.ID, []dcgm.GPUInfo{{UUID: "GPU-new", Node: "node-c", Model: "NVIDIA B200"}}, gpuNow); err != nil {
			t.Fatal(err)
		}
		// GPU-x was registered to the cluster by its rollups, GPU-new by discovery.
		if gs, _ := models.ListClusterGPUs(ctx, db, f.cluster.ID); len(gs) != 10 {
			t.Errorf("%d GPUs after discovery, want 10", len(gs))
		}
	})
}

// writeSignal is the telemetry store, telling the test when the collector
// has written rollups that cover some time.
type writeSignal struct {
	models.TelemetryStore
	covered chan struct{}
}

func (s writeSignal) UpsertRollups(ctx context.Context, clusterID uint, rs []dcgm.Rollup, now time.Time) error {
	err := s.TelemetryStore.UpsertRollups(ctx, clusterID, rs, now)
	for _, r := range rs {
		if err == nil && r.ObservedSeconds > 0 {
			select {
			case s.covered <- struct{}{}:
			default:
			}
			break
		}
	}
	return err
}

// TestCollectorOnDatabase runs the real collector with the simulator
// against the database until it has written rollups, and stops it.
func TestCollectorOnDatabase(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("collector run skipped in -short mode")
	}
	testdb.Each(t, time.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		officer, _ := models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "o", Name: "o", Role: models.RoleAdmin}, time.Now())
		c := &models.Cluster{Name: "live", Provider: "p", Region: "r", GPUModel: "NVIDIA H100 80GB HBM3", GPUCount: 16,
			SourceKind: models.SourceSimulator, PollSeconds: 1, SimSeed: 42}
		if _, err := models.SaveCluster(ctx, db, testSecrets, c, false, officer, time.Now()); err != nil {
			t.Fatal(err)
		}
		store := writeSignal{TelemetryStore: models.TelemetryStore{DB: db}, covered: make(chan struct{}, 1)}
		col := &dcgm.Collector{Store: store, Owner: "test", WriteEvery: 300 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- col.Run(runCtx) }()
		// Two polls a second apart, then a write; the minute only guards
		// against a hang.
		select {
		case <-store.covered:
		case <-time.After(time.Minute):
			t.Error("no rollups covering any time written within a minute")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got, _ := models.GetCluster(ctx, db, c.ID)
		if !got.Healthy() || got.GPUsSeen == 0 {
			t.Errorf("status after a run: healthy %t, GPUs seen %d, error %q", got.Healthy(), got.GPUsSeen, got.LastError)
		}
		gpus, _ := models.ListClusterGPUs(ctx, db, c.ID)
		if len(gpus) == 0 || len(gpus) > 16 {
			t.Errorf("%d GPUs discovered", len(gpus))
		}
		rows, _ := models.ClusterRollupsSince(ctx, db, c.ID, time.Now().Add(-2*time.Hour))
		var observed float64
		samples := 0
		for _, r := range rows {
			observed += r.ObservedS
			samples += r.Samples
		}
		if samples < len(gpus) || observed <= 0 {
			t.Errorf("rollups: %d rows, %d samples, %v s observed", len(rows), samples, observed)
		}
		var leases int64
		db.Model(&models.ClusterLease{}).Count(&leases)
		if leases != 0 {
			t.Errorf("%d leases left after the collector stopped", leases)
		}
	})
}

// TestAllocationUsageWholeDays checks that a range is read from the daily
// rollups for its whole KST days and from the hourly ones for the rest, with
// the same totals as the hours themselves.
func TestAllocationUsageWholeDays(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		a, errs, err := f.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 1, From: "2026-03-01", To: "2026-03-10", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		g := f.gpus[0].UUID
		start, end := a.Span()
		var rows []models.GPURollup
		for h := start; h.Before(end); h = h.Add(time.Hour) {
			i := int(h.Sub(start) / time.Hour)
			if i/24 == 4 { // 2026-03-05 KST: no telemetry at all
				continue
			}
			util := float64(i % 100)
			rows = append(rows, rollup(g, g, h, 3000, 3000*util/100, 3000*util, 3000*float64(100+i), float64(i)))
		}
		if err := models.UpsertRollups(ctx, db, rows, gpuNow); err != nil {
			t.Fatal(err)
		}
		var days []models.GPURollupDay
		db.Order("day").Find(&days)
		if len(days) != 9 || days[0].Day != "2026-03-01" || days[0].Hours != 24 || days[4].Day != "2026-03-06" {
			t.Fatalf("daily rollups: %d, first %+v", len(days), days[0])
		}
		sum := func(from, to time.Time) (observed, util, energy float64) {
			for _, r := range rows {
				if !r.Hour.Before(from) && r.Hour.Before(to) {
					observed += r.ObservedS
					util += r.UtilSum
					energy += r.EnergyJ
				}
			}
			return
		}
		for _, rg := range [][2]time.Time{
			{start, end}, // whole days only
			{start.Add(5 * time.Hour), end.Add(-7 * time.Hour)},    // partial first and last days
			{start.Add(30 * time.Hour), start.Add(40 * time.Hour)}, // inside one day
			{start.Add(20 * time.Hour), start.Add(50 * time.Hour)}, // across one midnight, no whole day
		} {
			u, err := models.AllocationUsage(ctx, db, a.ID, rg[0], rg[1], gpuNow)
			if err != nil {
				t.Fatal(err)
			}
			obs, util, energy := sum(rg[0], rg[1])
			if !approx(u.ObservedSeconds, obs) || !approx(u.UtilSum, util) || !approx(u.EnergyJ, energy) || u.Devices != 1 {
				t.Errorf("range %s – %s: observed %v util %v energy %v devices %d; want %v %v %v",
					rg[0], rg[1], u.ObservedSeconds, u.UtilSum, u.EnergyJ, u.Devices, obs, util, energy)
			}
		}

		// Ten days: one point per day, with the empty day a gap.
		pts, step, err := models.AllocationSeries(ctx, db, a, start, end, "")
		if err != nil || step != 24*time.Hour || len(pts) != 10 {
			t.Fatalf("daily series: %d points of %s, %v", len(pts), step, err)
		}
		if pts[4].Util != nil || pts[3].Util == nil || !pts[0].At.Equal(start) {
			t.Errorf("daily series: %+v", pts[:5])
		}
		obs, util, energy := sum(start, start.Add(24*time.Hour))
		if p := pts[0]; !approx(*p.Util, util/obs) || !approx(*p.Power, energy/obs) || !approx(p.GPUs, obs/86400) || !approx(*p.MemoryMiB, 23) {
			t.Errorf("first day: util %v power %v GPUs %v memory %v", *p.Util, *p.Power, p.GPUs, *p.MemoryMiB)
		}
		// A week or less is hourly.
		if pts, step, _ := models.AllocationSeries(ctx, db, a, start, start.Add(7*24*time.Hour), ""); step != time.Hour || len(pts) != 168 {
			t.Errorf("a week: %d points of %s", len(pts), step)
		}
	})
}

// TestUpsertRollupsInFullChunks writes more rollups than one statement
// sends (full chunks of 500 and a rest), three times: the hourly rows are
// those written, and the daily rows — moved by differences, or summed
// again where a node changed or a maximum went down — are a fresh sum.
func TestUpsertRollupsInFullChunks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		h0 := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC) // 12:00 KST
		const devices = 1_100
		write := func(pass int) []models.GPURollup {
			var rows []models.GPURollup
			for i := range devices {
				key := fmt.Sprintf("GPU-%04d", i)
				obs := float64(600*pass+i) / 3
				r := rollup(key, key, h0, obs, obs/7, obs*41.3, obs*397.1, float64(1000+i))
				r.XIDCount, r.BusyThresholdPct = pass, 5
				if pass > 1 && i%7 == 0 {
					r.Node = "moved"
				}
				if pass > 1 && i%11 == 0 {
					r.MaxFBMiB = 10
				}
				if i%3 == 0 {
					x := 13 + pass
					r.LastXID = &x
				}
				rows = append(rows, r)
				if pass > 1 {
					n := rollup(key, key, h0.Add(time.Hour), obs/2, obs/5, obs*12.5, obs*100.7, float64(2000-i))
					rows = append(rows, n)
				}
			}
			if err := models.UpsertRollups(ctx, db, slices.Clone(rows), gpuNow); err != nil {
				t.Fatal(err)
			}
			return rows
		}
		write(1)
		write(2)
		want := write(3)

		var stored []models.GPURollup
		if err := db.Order("device_key, hour").Find(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(want) {
			t.Fatalf("%d hourly rows, want %d", len(stored), len(want))
		}
		slices.SortFunc(want, func(a, b models.GPURollup) int {
			return cmp.Or(cmp.Compare(a.DeviceKey, b.DeviceKey), a.Hour.Compare(b.Hour))
		})
		for i, s := range stored {
			w := want[i]
			if s.DeviceKey != w.DeviceKey || !s.Hour.Equal(w.Hour) || s.ObservedS != w.ObservedS || s.UtilSum != w.UtilSum ||
				s.EnergyJ != w.EnergyJ || s.MaxFBMiB != w.MaxFBMiB || s.Node != w.Node || s.XIDCount != w.XIDCount ||
				(s.LastXID == nil) != (w.LastXID == nil) || s.LastXID != nil && *s.LastXID != *w.LastXID {
				t.Fatalf("hourly row %s %v: %+v, want %+v", s.DeviceKey, s.Hour, s, w)
			}
		}
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
		if err := models.RebuildRollupDays(ctx, db, models.DateOf(h0), models.DateOf(h0), gpuNow); err != nil {
			t.Fatal(err)
		}
		fresh := dayRows()
		if len(moved) != devices || len(fresh) != devices {
			t.Fatalf("%d daily rows moved, %d summed afresh; want %d", len(moved), len(fresh), devices)
		}
		for k, d := range fresh {
			m := moved[k]
			if m.Hours != d.Hours || !approx(m.ObservedS, d.ObservedS) || !approx(m.ActiveS, d.ActiveS) || !approx(m.UtilSum, d.UtilSum) ||
				!approx(m.EnergyJ, d.EnergyJ) || m.MaxFBMiB != d.MaxFBMiB || m.XIDCount != d.XIDCount || m.Samples != d.Samples ||
				m.Node != d.Node || m.UUID != d.UUID || m.BusyThresholdMin != d.BusyThresholdMin || m.BusyThresholdPct != d.BusyThresholdPct {
				t.Errorf("day %s moved by differences %+v, summed afresh %+v", k, m, d)
			}
		}
	})
}
