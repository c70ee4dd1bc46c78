package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"kaiportal/models"
)

// The demo's usage reports, for the month before the one the demo is
// loaded in: each outcome of the verification is there, and one report
// went back to its team and came again.
const (
	demoReportVerified     = "verified"     // submitted, verified, waiting for the auditor
	demoReportResubmitted  = "resubmitted"  // returned with a note, revised, verified
	demoReportDiscrepancy  = "discrepancy"  // 20 % more GPU-hours than the telemetry shows
	demoReportInsufficient = "insufficient" // the cluster sent nothing for a week, no downtime window
	demoReportDraft        = "draft"        // saved, not submitted
)

// demoReports says which selected team's report tells which story.
var demoReports = map[string]string{
	"naver-cloud":    demoReportVerified,
	"upstage":        demoReportResubmitted,
	"sk-telecom":     demoReportDiscrepancy,
	"nc-ai":          demoReportInsufficient,
	"lg-ai-research": demoReportDraft,
}

// demoReportAuditNote is the demo auditor's note on the returned report.
const demoReportAuditNote = "주요 작업에 사전학습 외 평가 작업도 적어 주십시오. (Please name the evaluation jobs too.)"

// SeedUsageReports writes, for each selected team of the demo with a demo
// allocation (run SeedGPUs first), a month of daily telemetry for the month
// before now and the team's report of it, submitted and verified through
// the models as a team and the demo auditor would. The demo writes daily
// rollups only (what a month's verification reads), so that seeding stays
// fast; the hourly charts keep the day SeedGPUs simulated. It is
// idempotent: once a usage report exists it changes nothing.
func SeedUsageReports(ctx context.Context, db *gorm.DB, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.UsageReport{}).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		teams, err := models.SelectedTeams(ctx, tx)
		if err != nil || len(teams) == 0 {
			return err
		}
		auditor, err := demoUserWhere(ctx, tx, "demo-auditor", func(u *models.User) bool { return u.Role == models.RoleAuditor })
		if err != nil {
			return fmt.Errorf("store: seed usage reports: %w", err)
		}
		month := models.MonthOf(now)
		month = models.MonthOf(month.First.Start().Add(-time.Hour))
		for _, team := range teams {
			story, ok := demoReports[team.Code]
			if !ok {
				continue
			}
			if err := seedTeamReport(ctx, tx, team, story, month, auditor, now); err != nil {
				return fmt.Errorf("store: seed usage report of %s: %w", team.Code, err)
			}
			if team.Code == demoInvoiceTeam {
				if err := seedInvoice(ctx, tx, team, month, now); err != nil {
					return fmt.Errorf("store: seed invoice of %s: %w", team.Code, err)
				}
			}
		}
		return nil
	})
}

// seedTeamReport writes the team's month of telemetry and its report.
func seedTeamReport(ctx context.Context, tx *gorm.DB, team models.Organisation, story string, m models.Month, auditor *models.User, now time.Time) error {
	var a models.Allocation
	err := tx.Joins("JOIN clusters ON clusters.id = allocations.cluster_id").
		Where("allocations.organisation_id = ? AND clusters.name = ?", team.ID, "demo-"+team.Code).Take(&a).Error
	if err != nil {
		return err
	}
	alloc, err := models.GetAllocation(ctx, tx, a.ID)
	if err != nil {
		return err
	}
	if err := seedMonthDays(tx, alloc, m, story == demoReportInsufficient, now); err != nil {
		return err
	}
	reporter, err := demoReporter(ctx, tx, team, now)
	if err != nil {
		return err
	}
	u, err := models.AllocationUsage(ctx, tx, a.ID, m.First.Start(), m.Next().First.Start(), now)
	if err != nil {
		return err
	}
	measured := models.MeasuredUsage(u)
	claim := func(scale float64) models.ReportInput {
		return models.ReportInput{
			GPUHours:  fmt.Sprintf("%.0f", measured.BusyHours*scale),
			MeanUtil:  fmt.Sprintf("%.1f", measured.MeanUtil),
			EnergyKWh: fmt.Sprintf("%.0f", measured.EnergyKWh),
			Purpose:   "한국어 중심 파운데이션 모델 사전학습 (pretraining of a Korean-first foundation model)",
			Workloads: "사전학습 3단계, 토크나이저 실험 (pretraining stage 3, tokenizer experiments)",
			JobNames:  "slurm:" + team.Code + "-pretrain-03\nslurm:" + team.Code + "-tok-11",
		}
	}
	// Submitted in the minutes before now, once the month is over.
	at := now.Add(-time.Minute)
	if start := m.Next().First.Start().Add(2 * time.Minute); at.Before(start) {
		at = start
	}
	switch story {
	case demoReportDraft:
		_, _, err = models.SaveUsageReport(ctx, tx, a.ID, m, claim(1), reporter, at)
		return err
	case demoReportDiscrepancy:
		_, _, err = models.SubmitUsageReport(ctx, tx, a.ID, m, claim(1.2), reporter, at)
		return err
	case demoReportResubmitted:
		first := claim(1)
		first.Workloads = "사전학습 (pretraining)"
		r, _, err := models.SubmitUsageReport(ctx, tx, a.ID, m, first, reporter, at.Add(-2*time.Minute))
		if err != nil {
			return err
		}
		if _, err := models.ReturnUsageReport(ctx, tx, r.ID, demoReportAuditNote, auditor, at.Add(-time.Minute)); err != nil {
			return err
		}
	}
	_, _, err = models.SubmitUsageReport(ctx, tx, a.ID, m, claim(1), reporter, at)
	return err
}

// demoReporter is the team's company user who reports: the demo company
// user of the team, or a reporter of its own (not a demo sign-in).
func demoReporter(ctx context.Context, tx *gorm.DB, team models.Organisation, now time.Time) (*models.User, error) {
	u, err := demoUserWhere(ctx, tx, "company of "+team.Code, func(u *models.User) bool {
		return u.Role == models.RoleCompany && u.OrganisationID != nil && *u.OrganisationID == team.ID
	})
	if err == nil {
		return u, nil
	}
	return models.UpsertUser(ctx, tx, models.Identity{Issuer: "demo-reporter", Subject: "reporter-" + team.Code,
		Name: team.NameKO + " GPU 담당", Role: models.RoleCompany, OrganisationID: &team.ID}, now)
}

// seedMonthDays writes each of the allocation's GPUs' daily rollups for
// the month: observed all day, busy 55–90 % of it (by GPU), with a week
// missing for a team whose cluster went silent. Days already stored (the
// day SeedGPUs simulated) are kept.
func seedMonthDays(tx *gorm.DB, a *models.Allocation, m models.Month, silentWeek bool, now time.Time) error {
	var gpus []models.GPU
	if err := tx.Where("uuid IN ?", a.UUIDs()).Order("uuid").Find(&gpus).Error; err != nil {
		return err
	}
	var rows []models.GPURollupDay
	for d := m.First; !d.After(m.Last()); d = d.AddDays(1) {
		if silentWeek && d.Day >= 8 && d.Day < 15 {
			continue
		}
		for _, g := range gpus {
			h := fnv.New32a()
			h.Write([]byte(g.UUID + d.String()))
			busy := 0.55 + 0.35*float64(h.Sum32()%1000)/1000
			rows = append(rows, models.GPURollupDay{DeviceKey: g.UUID, Day: d.String(), UUID: g.UUID, ClusterID: a.ClusterID,
				Hours: 24, Node: g.Node, Model: g.Model, ObservedS: 86400, ActiveS: 86400 * busy, UtilSum: 86400 * (busy*92 + (1-busy)*2),
				GRSum: 86400 * busy * 0.9, SMSum: 86400 * busy * 0.8, EnergyJ: 86400 * (busy*900 + (1-busy)*150), MaxFBMiB: 150000,
				Samples: 5760, UpdatedAt: now.UTC(), BusyThresholdMin: 5, BusyThresholdPct: 5})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// demoInvoiceTeam is the team whose allocation's provider bills the demo
// month: 10 % more GPU-hours than the allocation's capacity, a discrepancy.
const demoInvoiceTeam = "naver-cloud"

// seedInvoice enters, as the demo officer, the provider's invoice line for
// the team's demo allocation and month.
func seedInvoice(ctx context.Context, tx *gorm.DB, team models.Organisation, m models.Month, now time.Time) error {
	officer, err := demoUserWhere(ctx, tx, "demo-officer", func(u *models.User) bool { return u.Role == models.RoleOfficer })
	if err != nil {
		return err
	}
	var a models.Allocation
	err = tx.Joins("JOIN clusters ON clusters.id = allocations.cluster_id").
		Where("allocations.organisation_id = ? AND clusters.name = ?", team.ID, "demo-"+team.Code).Take(&a).Error
	if err != nil {
		return err
	}
	u, err := models.AllocationUsage(ctx, tx, a.ID, m.First.Start(), m.Next().First.Start(), now)
	if err != nil {
		return err
	}
	billed := models.MeasuredUsage(u).AllocatedHours * 1.1
	_, errs, err := models.EnterInvoiceLine(ctx, tx, models.InvoiceInput{AllocationID: fmt.Sprint(a.ID), Month: m.String(),
		BilledHours: fmt.Sprintf("%.0f", billed), Availability: "100", Reference: "DEMO-" + m.String() + "-001"}, officer, now)
	if err != nil {
		return fmt.Errorf("%w %v", err, errs)
	}
	return nil
}
