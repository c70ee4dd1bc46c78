package models_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// Usage reports checked against simulated telemetry: a month (December
// 2026) of four simulated B200 GPUs sampled every ten minutes, folded by
// the collector's folder into the rollups the verification reads.

const simStep = 10 * time.Minute

// simMonth is the simulated cluster's GPUs and rollups for December 2026,
// without the samples skip drops (a cluster that is down).
type simMonth struct {
	gpus []dcgm.GPUInfo
	rows []dcgm.Rollup
}

var (
	simMonths   = map[string]simMonth{}
	simMonthsMu sync.Mutex
)

// simulateMonth runs the simulator over December 2026 (once per name).
func simulateMonth(t *testing.T, name string, skip func(time.Time) bool) simMonth {
	return simulateMonthWith(t, name, nil, skip)
}

// simulateMonthWith is simulateMonth with the simulator's settings changed by edit.
func simulateMonthWith(t *testing.T, name string, edit func(*dcgm.SimConfig), skip func(time.Time) bool) simMonth {
	t.Helper()
	simMonthsMu.Lock()
	defer simMonthsMu.Unlock()
	if s, ok := simMonths[name]; ok {
		return s
	}
	var clock time.Time
	cfg := dcgm.SimConfig{Seed: 7, Cluster: name, Nodes: 1, GPUsPerNode: 4, Model: "NVIDIA B200",
		Profiles: dcgm.SimProfiles{Busy: 1, Bursty: 1}, Interval: simStep, Now: func() time.Time { return clock }}
	if edit != nil {
		edit(&cfg)
	}
	sim := dcgm.NewSimulator(cfg)
	fold := dcgm.NewFolder(dcgm.FolderConfig{Interval: simStep})
	for clock = decKST(1, 0, 0); clock.Before(decKST(31, 0, 0).Add(24 * time.Hour)); clock = clock.Add(simStep) {
		if skip != nil && skip(clock) {
			continue
		}
		p, err := sim.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Samples {
			fold.Add(s)
		}
	}
	s := simMonth{gpus: sim.GPUs(), rows: append(fold.Flush(decKST(31, 0, 0).Add(48*time.Hour)), fold.Snapshot()...)}
	simMonths[name] = s
	return s
}

// reportFixture is a team with a company user, an auditor, and a simulated
// cluster whose December telemetry is stored.
type reportFixture struct {
	*gpuFixture
	company, auditor *models.User
	sim              *models.Cluster
	uuids            []string
}

func newReportFixture(t *testing.T, db *gorm.DB, name string, skip func(time.Time) bool) *reportFixture {
	t.Helper()
	return newReportFixtureWith(t, db, name, nil, skip)
}

func newReportFixtureWith(t *testing.T, db *gorm.DB, name string, edit func(*dcgm.SimConfig), skip func(time.Time) bool) *reportFixture {
	t.Helper()
	ctx := t.Context()
	f := &reportFixture{gpuFixture: newGPUFixture(t, db)}
	var err error
	f.company, err = models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "company-a", Name: "가팀 담당자",
		Role: models.RoleCompany, OrganisationID: &f.teamA.ID}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	f.auditor, err = models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "auditor", Name: "감사관",
		Role: models.RoleAuditor}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	m := simulateMonthWith(t, name, edit, skip)
	f.sim = &models.Cluster{Name: name, Provider: "KT Cloud", Region: "KR-Central", GPUModel: "NVIDIA B200", GPUCount: 4,
		SourceKind: models.SourceSimulator, PollSeconds: 600, SimSeed: 7}
	if errs, err := models.SaveCluster(ctx, db, testSecrets, f.sim, false, f.officer, f.now); err != nil {
		t.Fatalf("save cluster: %v %v", err, errs)
	}
	s := models.TelemetryStore{DB: db}
	if err := s.RecordGPUs(ctx, f.sim.ID, m.gpus, f.now); err != nil {
		t.Fatal(err)
	}
	for _, g := range m.gpus {
		f.uuids = append(f.uuids, g.UUID)
	}
	if err := s.UpsertRollups(ctx, f.sim.ID, m.rows, decKST(31, 0, 0).Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *reportFixture) allocate(t *testing.T, from, to string, uuids ...string) *models.Allocation {
	t.Helper()
	a, errs, err := f.gpuFixture.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.sim.ID,
		BlockKind: models.BlockCustom, GPUCount: len(uuids), From: from, To: to, OwnGPUs: true, UUIDs: uuids})
	if err != nil {
		t.Fatalf("allocate: %v %v", err, errs)
	}
	return a
}

var december, _ = models.ParseMonth("2026-12")

// afterDecember is when the reports are submitted: 5 January 2027, on time.
var afterDecember = janKST(5, 10)

// measured is what the telemetry says of the allocation's December.
func measured(t *testing.T, db *gorm.DB, a *models.Allocation) models.UsageMeasured {
	t.Helper()
	u, err := models.AllocationUsage(t.Context(), db, a.ID, december.First.Start(), december.Next().First.Start(), afterDecember)
	if err != nil {
		t.Fatal(err)
	}
	return models.MeasuredUsage(u)
}

// honest is the report of what the telemetry says, scaled.
func honest(m models.UsageMeasured, scale float64) models.ReportInput {
	return models.ReportInput{GPUHours: fmt.Sprintf("%.2f", m.BusyHours*scale), MeanUtil: fmt.Sprintf("%.2f", m.MeanUtil),
		EnergyKWh: fmt.Sprintf("%.1f", m.EnergyKWh), Purpose: "한국어 기반 모델 사전학습", Workloads: "pretraining run 3",
		JobNames: "slurm:1201\nslurm:1202"}
}

func TestUsageReportWithSimulator(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-whole", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		if m.Coverage() < 99 || m.BusyHours <= 0 || m.BusyHours >= m.ObservedHours {
			t.Fatalf("simulated month: %+v (coverage %.1f %%)", m, m.Coverage())
		}
		if !approx(m.AllocatedHours, 4*31*24) {
			t.Errorf("allocated %v GPU-hours, want %v", m.AllocatedHours, 4*31*24)
		}
		// A draft is saved, with its due date (10 January 2027 is a Sunday).
		r, errs, err := models.SaveUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, janKST(2, 10))
		if err != nil {
			t.Fatalf("save: %v %v", err, errs)
		}
		if r.State != models.ReportDraft || r.DueDate != "2027-01-11" {
			t.Errorf("draft: state %s due %s", r.State, r.DueDate)
		}
		// The honest report is verified on submit.
		r, errs, err = models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil {
			t.Fatalf("submit: %v %v", err, errs)
		}
		if r.State != models.ReportSubmitted || r.Outcome != models.OutcomeVerified || r.Late {
			t.Fatalf("submitted: %s %s late %v", r.State, r.Outcome, r.Late)
		}
		// The auditor returns it; the team inflates it by 20 % and submits again: a discrepancy.
		if errs, err := models.ReturnUsageReport(ctx, db, r.ID, "", f.auditor, janKST(6, 10)); !errors.Is(err, models.ErrInvalid) || !errs.Has("note") {
			t.Errorf("return without a note: %v %v", errs, err)
		}
		if _, err := models.ReturnUsageReport(ctx, db, r.ID, "작업 이름을 모두 적어 주십시오.", f.company, janKST(6, 10)); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("the team returned its own report: %v", err)
		}
		if _, err := models.ReturnUsageReport(ctx, db, r.ID, "작업 이름을 모두 적어 주십시오.", f.auditor, janKST(6, 10)); err != nil {
			t.Fatal(err)
		}
		r, _, err = models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1.2), f.company, janKST(20, 10))
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != models.OutcomeDiscrepancy || r.Late {
			t.Errorf("inflated: %s, late %v (a resubmission after a return is not late)", r.Outcome, r.Late)
		}
		// The officer widens the tolerance; verifying again gives a new result, the earlier ones kept.
		if errs, err := models.SaveUsageSettings(ctx, db, models.UsageSettingsInput{GPUHoursPct: "25", MeanUtilPoints: "10",
			EnergyPct: "15", CoverageThreshold: "90", AvailabilityPoints: "3.5", DueDay: "10", Note: "분기 말 정산"}, f.officer, janKST(21, 9)); err != nil {
			t.Fatalf("settings: %v %v", err, errs)
		}
		v, err := models.VerifyUsageReportAgain(ctx, db, r.ID, f.auditor, janKST(21, 10))
		if err != nil || v.Outcome != models.OutcomeVerified || v.GPUHoursPct != 25 || v.SettingsID == 0 ||
			v.AvailabilityPoints == nil || *v.AvailabilityPoints != 3.5 {
			t.Fatalf("again: %+v %v", v, err)
		}
		events, vs, err := models.ReportHistory(ctx, db, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 3 || vs[0].Outcome != models.OutcomeVerified || vs[1].Outcome != models.OutcomeDiscrepancy ||
			vs[1].GPUHoursPct != 10 || vs[1].Direction != models.DirectionOver || vs[1].Figure != models.FigureGPUHours {
			t.Errorf("verifications %+v", vs)
		}
		for _, v := range vs {
			if v.Verdict().Outcome != v.Outcome {
				t.Errorf("verification %d recomputes as %s, recorded %s", v.ID, v.Verdict().Outcome, v.Outcome)
			}
		}
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action+":"+e.ToState)
		}
		if fmt.Sprint(actions) != "[save:draft submit:submitted return:returned submit:submitted]" {
			t.Errorf("history %v", actions)
		}
		// The auditor signs it off; nothing changes it after.
		if err := models.SignOffUsageReport(ctx, db, r.ID, f.company, janKST(22, 10)); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("the team signed off: %v", err)
		}
		if err := models.SignOffUsageReport(ctx, db, r.ID, f.auditor, janKST(22, 10)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := models.SaveUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, janKST(23, 10)); !errors.Is(err, models.ErrInvalidTransition) {
			t.Errorf("edit after sign-off: %v", err)
		}
		var audits int64
		db.Model(&models.AuditEntry{}).Where("object_type = ? AND object_id = ?", "usage_report", fmt.Sprint(r.ID)).Count(&audits)
		if audits != 8 { // save, submit, verify, return, submit, verify, verify, sign off
			t.Errorf("%d audit rows, want 8", audits)
		}
		// The result page's telemetry: every day of the month, no gaps, the claim spread over the days.
		tel, err := models.ReportTelemetryOf(ctx, db, r, janKST(23, 10))
		if err != nil {
			t.Fatal(err)
		}
		var busy, claimed float64
		for _, d := range tel.Days {
			busy += d.BusyHours
			claimed += d.ClaimedHours
		}
		if len(tel.Days) != 31 || len(tel.Gaps) != 0 || !approxTol(busy, m.BusyHours, 1e-6) || !approxTol(claimed, r.GPUHours, 1e-6) {
			t.Errorf("telemetry: %d days, gaps %+v, busy %v (want %v), claimed %v", len(tel.Days), tel.Gaps, busy, m.BusyHours, claimed)
		}
	})
}

func approxTol(a, b, rel float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= rel*max(1, b)
}

func TestUsageReportRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-rules", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		// Field errors keep the input; a month not over cannot be submitted.
		bad := honest(m, 1)
		bad.GPUHours, bad.MeanUtil, bad.Purpose = "many", "120", ""
		r, errs, err := models.SaveUsageReport(ctx, db, a.ID, december, bad, f.company, janKST(2, 10))
		if !errors.Is(err, models.ErrInvalid) || !errs.Has("gpu_hours") || !errs.Has("mean_util") || !errs.Has("purpose") || r == nil {
			t.Errorf("bad input: %v %v", errs, err)
		}
		if _, errs, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, decKST(31, 20, 0)); !errors.Is(err, models.ErrInvalid) || !errs.Has("gpu_hours") {
			t.Errorf("submitted before the month ended: %v %v", errs, err)
		}
		// Another team's user, and an auditor, cannot write the team's report.
		other, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "test", Subject: "company-b", Name: "나팀",
			Role: models.RoleCompany, OrganisationID: &f.teamB.ID}, f.now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := models.SaveUsageReport(ctx, db, a.ID, december, honest(m, 1), other, janKST(2, 10)); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another team saved: %v", err)
		}
		if _, _, err := models.SaveUsageReport(ctx, db, a.ID, december, honest(m, 1), f.auditor, janKST(2, 10)); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("an auditor saved: %v", err)
		}
		// Late: first submitted after the due date (11 January), marked, not refused.
		r, _, err = models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, janKST(12, 9))
		if err != nil || !r.Late || r.Outcome != models.OutcomeVerified {
			t.Fatalf("late: %+v %v", r, err)
		}
		// A second allocation, from January.
		if _, errs, err := f.gpuFixture.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 2, From: "2027-01-01", To: "2027-01-31", OwnGPUs: true,
			UUIDs: []string{f.gpus[0].UUID}}); err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		// The team and the auditors see the report; another team does not; the queue is the auditors'.
		if _, err := models.GetUsageReport(ctx, db, r.ID, other); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another team read the report: %v", err)
		}
		if _, err := models.ReportQueue(ctx, db, models.ReportFilter{}, f.company); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("a company read the queue: %v", err)
		}
		for _, c := range []struct {
			f    models.ReportFilter
			want int
		}{
			{models.ReportFilter{}, 1},
			{models.ReportFilter{OrgID: f.teamA.ID, Month: "2026-12", Outcome: models.OutcomeVerified}, 1},
			{models.ReportFilter{OrgID: f.teamB.ID}, 0},
			{models.ReportFilter{Month: "2026-11"}, 0},
			{models.ReportFilter{Outcome: models.OutcomeDiscrepancy}, 0},
		} {
			q, err := models.ReportQueue(ctx, db, c.f, f.auditor)
			if err != nil || len(q.Rows) != c.want || q.Total != c.want || len(q.Rows) > 0 && q.Rows[0].Latest == nil {
				t.Errorf("queue %+v: %d rows, %v; want %d", c.f, len(q.Rows), err, c.want)
			}
		}
		rows, err := models.TeamReportMonths(ctx, db, f.teamA.ID, f.company, janKST(12, 9))
		if err != nil {
			t.Fatal(err)
		}
		// December and January of the first allocation, January of the second: latest first.
		if len(rows) != 3 || rows[2].Month != december || rows[2].Report == nil || rows[2].Latest == nil ||
			rows[0].Report != nil || rows[0].Due != "2027-02-10" || !approx(rows[1].AllocatedHours, 2*31*24) {
			t.Errorf("team months %+v", rows)
		}
		if _, err := models.TeamReportMonths(ctx, db, f.teamA.ID, other, janKST(12, 9)); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another team's months: %v", err)
		}
		// The January block has two GPUs, one identified: the result page says so.
		january, _ := models.ParseMonth("2027-01")
		second := rows[1].Allocation
		if rows[1].Month != january || second.GPUCount != 2 {
			t.Fatalf("rows[1] %+v", rows[1])
		}
		draft, _, err := models.SaveUsageReport(ctx, db, second.ID, january, honest(m, 0), f.company, janKST(12, 9))
		if err != nil {
			t.Fatal(err)
		}
		if tel, err := models.ReportTelemetryOf(ctx, db, draft, janKST(12, 9)); err != nil || tel.Unnamed != 1 {
			t.Errorf("unnamed GPUs: %d, %v", tel.Unnamed, err)
		}
	})
}

// TestUsageReportCapacity: a claim above what the block could give in the
// month is a discrepancy even without any telemetry.
func TestUsageReportCapacity(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-capacity", nil)
		// A GPU of the fixture's other cluster, which has no telemetry at all.
		a, errs, err := f.gpuFixture.allocate(t, models.AllocationInput{OrganisationID: f.teamA.ID, ClusterID: f.cluster.ID,
			BlockKind: models.BlockCustom, GPUCount: 1, From: "2026-12-01", To: "2026-12-31", OwnGPUs: true, UUIDs: []string{f.gpus[0].UUID}})
		if err != nil {
			t.Fatalf("allocate: %v %v", err, errs)
		}
		in := honest(models.UsageMeasured{}, 1)
		in.GPUHours = "745" // 31 × 24 = 744
		r, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, in, f.company, afterDecember)
		if err != nil || r.Outcome != models.OutcomeDiscrepancy {
			t.Fatalf("above capacity: %+v %v", r, err)
		}
		_, vs, _ := models.ReportHistory(ctx, db, r.ID)
		if len(vs) != 1 || vs[0].Figure != models.FigureCapacity || !approx(vs[0].Difference, 1) || vs[0].AllocatedHours != 744 {
			t.Errorf("verification %+v", vs)
		}
		// Within the capacity, without telemetry: insufficient, never verified.
		if _, err := models.ReturnUsageReport(ctx, db, r.ID, "용량 초과", f.auditor, janKST(6, 10)); err != nil {
			t.Fatal(err)
		}
		in.GPUHours = "0"
		in.MeanUtil = "0"
		r, _, err = models.SubmitUsageReport(ctx, db, a.ID, december, in, f.company, janKST(7, 10))
		if err != nil || r.Outcome != models.OutcomeInsufficient {
			t.Errorf("no telemetry: %+v %v", r, err)
		}
	})
}

// TestUsageReportClusterDown: the cluster sends nothing for a week. Without
// a downtime window the month lacks telemetry; with one, that week is not
// expected and the same report is verified.
func TestUsageReportClusterDown(t *testing.T) {
	t.Parallel()
	down := func(at time.Time) bool { return !at.Before(decKST(8, 0, 0)) && at.Before(decKST(15, 0, 0)) }
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-down", down)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		r, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil || r.Outcome != models.OutcomeInsufficient {
			t.Fatalf("down a week, no window: %+v %v", r, err)
		}
		tel, err := models.ReportTelemetryOf(ctx, db, r, afterDecember)
		if err != nil || len(tel.Gaps) != 4 || tel.Gaps[0].MissingHours() < 7*24-1 {
			t.Errorf("gaps %+v %v", tel.Gaps, err)
		}
		if _, _, err := models.CreateDowntime(ctx, db, models.DowntimeInput{ClusterID: f.sim.ID, Start: "2026-12-08T00:00",
			End: "2026-12-15T00:00", Kind: models.DowntimeOutage, Reason: "냉각 설비 고장"}, f.officer, janKST(6, 9)); err != nil {
			t.Fatal(err)
		}
		v, err := models.VerifyUsageReportAgain(ctx, db, r.ID, f.auditor, janKST(6, 10))
		if err != nil || v.Outcome != models.OutcomeVerified || !approx(v.DownHours, 4*7*24) {
			t.Fatalf("with the window: %+v %v", v, err)
		}
		_, vs, _ := models.ReportHistory(ctx, db, r.ID)
		if len(vs) != 2 || vs[0].Outcome != models.OutcomeInsufficient || vs[0].DownHours != 0 {
			t.Errorf("the first result changed: %+v", vs)
		}
		tel, err = models.ReportTelemetryOf(ctx, db, r, janKST(6, 10))
		if err != nil || len(tel.Gaps) != 0 {
			t.Errorf("gaps with the window %+v %v", tel.Gaps, err)
		}
	})
}

// TestUsageReportMidMonth: an allocation starting on 16 December is
// checked on its days only; a GPU replaced on 15 December counts for each
// GPU its own part of the month.
func TestUsageReportMidMonth(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-mid", nil)
		late := f.allocate(t, "2026-12-16", "2027-03-31", f.uuids[0], f.uuids[1])
		m := measured(t, db, late)
		if !approx(m.AllocatedHours, 2*16*24) || !approx(m.ExpectedHours, 2*16*24) || m.Coverage() < 99 {
			t.Errorf("from the 16th: %+v", m)
		}
		r, _, err := models.SubmitUsageReport(ctx, db, late.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil || r.Outcome != models.OutcomeVerified {
			t.Fatalf("honest from the 16th: %+v %v", r, err)
		}
		tel, err := models.ReportTelemetryOf(ctx, db, r, afterDecember)
		if err != nil || len(tel.Days) != 16 || tel.Days[0].Day.String() != "2026-12-16" || len(tel.Gaps) != 0 {
			t.Errorf("days from the 16th: %d %v, gaps %+v", len(tel.Days), err, tel.Gaps)
		}

		// GPU 2 replaced by GPU 3 at 15 December 12:00 KST.
		rep := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids[2])
		if errs, err := models.ReplaceAllocationGPU(ctx, db, rep.ID, models.GPUReplacement{Old: f.uuids[2], New: f.uuids[3],
			At: "2026-12-15 12:00", Reason: "XID 79"}, f.officer, decKST(15, 13, 0)); err != nil {
			t.Fatalf("replace: %v %v", err, errs)
		}
		mr := measured(t, db, rep)
		if !approx(mr.ExpectedHours, 31*24) || mr.Coverage() < 99 || mr.Coverage() > 100.01 {
			t.Errorf("replaced: %+v coverage %.2f", mr, mr.Coverage())
		}
		r2, _, err := models.SubmitUsageReport(ctx, db, rep.ID, december, honest(mr, 1), f.company, afterDecember)
		if err != nil || r2.Outcome != models.OutcomeVerified {
			t.Fatalf("honest with a replacement: %+v %v", r2, err)
		}
		tel, err = models.ReportTelemetryOf(ctx, db, r2, afterDecember)
		if err != nil || len(tel.Gaps) != 0 {
			t.Errorf("gaps with a replacement %+v %v", tel.Gaps, err)
		}
	})
}

// TestUsageReportMIG: a MIG GPU counts once (its instances are a
// breakdown of it): an honest report is verified.
func TestUsageReportMIG(t *testing.T) {
	t.Parallel()
	mig := func(c *dcgm.SimConfig) { c.MIGPerNode = 1 }
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixtureWith(t, db, "sim-mig", mig, nil)
		instances := 0
		for _, r := range simulateMonthWith(t, "sim-mig", mig, nil).rows {
			if r.MIG != "" {
				instances++
			}
		}
		if instances == 0 {
			t.Fatal("the simulator showed no MIG instance")
		}
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		if !approx(m.AllocatedHours, 4*31*24) || !approx(m.ExpectedHours, 4*31*24) || m.Coverage() < 99 || m.Coverage() > 100.01 {
			t.Errorf("with a MIG GPU: %+v, coverage %.2f", m, m.Coverage())
		}
		r, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil || r.Outcome != models.OutcomeVerified {
			t.Errorf("honest with a MIG GPU: %+v %v", r, err)
		}
	})
}

// TestUsageReportEnergyResets: energy counters that reset during the month
// (reboots) neither lose nor invent energy: an honest report with its
// energy is verified.
func TestUsageReportEnergyResets(t *testing.T) {
	t.Parallel()
	resets := func(c *dcgm.SimConfig) { c.RebootsPerHour = 0.02 }
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixtureWith(t, db, "sim-resets", resets, nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		// A B200 draws up to 1 kW: a reset read as a drop or a jump of the counter would show here.
		if perHour := m.EnergyKWh / m.ObservedHours; perHour < 0.1 || perHour > 1.2 {
			t.Errorf("energy %.1f kWh over %.1f GPU-hours: %.3f kWh per GPU-hour", m.EnergyKWh, m.ObservedHours, perHour)
		}
		r, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
		if err != nil || r.Outcome != models.OutcomeVerified || r.EnergyKWh == nil || *r.EnergyKWh <= 0 {
			t.Errorf("honest with energy resets: %+v %v", r, err)
		}
	})
}

// TestUsageReportSubmittedOnce: two submissions of the same draft at once
// (two tabs): one is taken, the other refused; one history row and one
// verification for the submission.
func TestUsageReportSubmittedOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-rules", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		m := measured(t, db, a)
		if _, _, err := models.SaveUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, janKST(2, 10)); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(m, 1), f.company, afterDecember)
				errs <- err
			}()
		}
		var ok, refused int
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				ok++
			case errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrInvalidTransition):
				refused++
			default:
				t.Errorf("second submission: %v", err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("%d submissions taken, %d refused; want 1 and 1", ok, refused)
		}
		var r models.UsageReport
		if err := db.Where("allocation_id = ?", a.ID).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		events, vs, err := models.ReportHistory(ctx, db, r.ID)
		if err != nil || len(events) != 2 || len(vs) != 1 {
			t.Errorf("history: %d events, %d verifications, %v", len(events), len(vs), err)
		}
	})
}

// TestReportQueuePages: the auditors' queue is cut into pages of
// QueuePageSize from the reports and invoice lines together, oldest
// submission first, and says how many match; nothing is left out past a
// page.
func TestReportQueuePages(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-whole", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids[:2]...)
		// 60 reports submitted an hour apart and 45 invoice lines entered
		// among them (50 hours earlier each), each a month of its own.
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 105 {
			month := models.Month{First: models.NewDate(2010, time.Month(1+i), 1)}.String()
			sub := at.Add(time.Duration(i) * time.Hour)
			var err error
			if i < 60 {
				r := models.UsageReport{AllocationID: a.ID, OrganisationID: a.OrganisationID, Month: month, State: models.ReportSubmitted,
					GPUHours: 1, DueDate: "2010-01-10", SubmittedAt: &sub}
				err = db.Create(&r).Error
			} else {
				l := models.InvoiceLine{AllocationID: a.ID, OrganisationID: a.OrganisationID, Month: month, Provider: "KT Cloud",
					State: models.ReportSubmitted, EnteredByID: f.officer.ID, SubmittedAt: sub.Add(-50 * time.Hour)}
				err = db.Create(&l).Error
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		var last time.Time
		for page := 1; page <= 3; page++ {
			q, err := models.ReportQueue(ctx, db, models.ReportFilter{Page: page}, f.auditor)
			if err != nil {
				t.Fatal(err)
			}
			want := []int{50, 50, 5}[page-1]
			if len(q.Rows) != want || q.Total != 105 || q.Pages() != 3 || q.Page != page {
				t.Fatalf("page %d: %d rows of %d, %d pages", page, len(q.Rows), q.Total, q.Pages())
			}
			for _, r := range q.Rows {
				var key string
				if r.Report != nil {
					key = fmt.Sprintf("r%d", r.Report.ID)
				} else {
					key = fmt.Sprintf("i%d", r.Invoice.ID)
				}
				if seen[key] || r.SubmittedAt().Before(last) {
					t.Fatalf("page %d: %s again or out of order", page, key)
				}
				seen[key], last = true, r.SubmittedAt()
			}
		}
		if len(seen) != 105 {
			t.Errorf("%d rows over the pages", len(seen))
		}
		q, err := models.ReportQueue(ctx, db, models.ReportFilter{Kind: models.QueueInvoices, Page: 1}, f.auditor)
		if err != nil || q.Total != 45 || len(q.Rows) != 45 || q.Rows[0].Invoice == nil {
			t.Errorf("invoice lines: %d of %d, %v", len(q.Rows), q.Total, err)
		}
		q, err = models.ReportQueue(ctx, db, models.ReportFilter{Page: 9}, f.auditor)
		if err != nil || q.Total != 105 || len(q.Rows) != 0 {
			t.Errorf("past the last page: %d of %d, %v", len(q.Rows), q.Total, err)
		}
	})
}
