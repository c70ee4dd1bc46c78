package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// What auditors and officers take away: the reports and invoice lines of
// a period with their latest verification's numbers, and a programme
// summary per month of the GPU-hours reported, measured and billed.

// MaxExportMonths bounds the period of a bulk export.
const MaxExportMonths = 24

// VerificationExportRow is a report or an invoice line of the period with
// its latest verification (nil when it has none).
type VerificationExportRow struct {
	Kind         string // QueueReports or QueueInvoices
	ID           uint
	Organisation *Organisation
	AllocationID uint
	Month        string
	Provider     string // invoice lines only
	State        string
	Late         bool
	Claimed      float64 // GPU-hours reported or billed
	MeanUtil     float64 // reports only, percent
	Availability float64 // invoice lines only, percent
	Latest       *VerificationResult
}

// ParseExportPeriod reads a period of months from its first and last
// (YYYY-MM), at most MaxExportMonths long.
func ParseExportPeriod(from, to string) (Month, Month, FieldErrors) {
	errs := FieldErrors{}
	f, err := ParseMonth(from)
	if err != nil {
		errs.Add("from", "invoice.error.month")
	}
	t, err := ParseMonth(to)
	if err != nil {
		errs.Add("to", "invoice.error.month")
	}
	if errs.Any() {
		return f, t, errs
	}
	n := (t.First.Year-f.First.Year)*12 + int(t.First.Month) - int(f.First.Month) + 1
	switch {
	case n < 1:
		errs.Add("to", "usage.export.error.order")
	case n > MaxExportMonths:
		errs.Add("to", "usage.export.error.long")
	}
	return f, t, errs
}

// VerificationExport lists the reports (drafts left out: nothing is
// claimed yet) and the invoice lines of the months from..to, by month,
// team and allocation (a report before its invoice line), with their
// latest verification. For the ministry
// and auditors only.
func VerificationExport(ctx context.Context, db *gorm.DB, from, to Month, by *User) ([]VerificationExportRow, error) {
	if !MaySeeInvoices(by) {
		return nil, fmt.Errorf("store: verification export: %w", ErrForbidden)
	}
	db = db.WithContext(ctx)
	var rs []UsageReport
	if err := db.Preload("Organisation").Where("month >= ? AND month <= ? AND state <> ?", from.String(), to.String(), ReportDraft).
		Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("store: verification export: %w", err)
	}
	latest, err := latestVerifications(db, rs)
	if err != nil {
		return nil, err
	}
	var ls []InvoiceLine
	if err := db.Preload("Organisation").Where("month >= ? AND month <= ?", from.String(), to.String()).Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: verification export: %w", err)
	}
	lines, err := invoiceRows(db, ls)
	if err != nil {
		return nil, err
	}
	out := make([]VerificationExportRow, 0, len(rs)+len(ls))
	for i := range rs {
		r := &rs[i]
		out = append(out, VerificationExportRow{Kind: QueueReports, ID: r.ID, Organisation: r.Organisation, AllocationID: r.AllocationID,
			Month: r.Month, State: r.State, Late: r.Late, Claimed: r.GPUHours, MeanUtil: r.MeanUtil, Latest: latest[r.ID]})
	}
	for _, l := range lines {
		out = append(out, VerificationExportRow{Kind: QueueInvoices, ID: l.Line.ID, Organisation: l.Line.Organisation,
			AllocationID: l.Line.AllocationID, Month: l.Line.Month, Provider: l.Line.Provider, State: l.Line.State,
			Claimed: l.Line.BilledHours, Availability: l.Line.Availability, Latest: l.Latest})
	}
	slices.SortFunc(out, func(x, y VerificationExportRow) int {
		return cmp.Or(cmp.Compare(x.Month, y.Month), cmp.Compare(x.Organisation.NameKO, y.Organisation.NameKO),
			cmp.Compare(x.AllocationID, y.AllocationID), cmp.Compare(y.Kind, x.Kind), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// UsageSummaryRow is one team's month in the programme summary.
type UsageSummaryRow struct {
	Org       *Organisation // nil for the total
	Allocated float64       // GPU-hours lent in the month
	Expected  float64       // allocated up to now, downtime windows left out
	Measured  float64       // busy GPU-hours the telemetry shows
	// Expected and Measured are, for each allocation whose report or
	// invoice line has a verification, the figures its latest result
	// recorded (Recorded counts them); for the others, the telemetry as it
	// stands now (Current counts them).
	Recorded, Current int
	Reported          float64 // GPU-hours of the team's reports (drafts left out)
	Reports           int
	Billed            float64 // GPU-hours the providers' invoice lines bill
	InvoiceLines      int
	Discrepancies     int // reports and lines whose latest outcome is a discrepancy
}

// ProgrammeUsageSummary is, for the month, each team's allocated,
// expected and measured GPU-hours, the GPU-hours its reports claim and
// those the providers bill, with the total. Expected and measured are, per
// allocation, those recorded by the latest verification of its report (or
// else of its invoice line), so that they match what was signed off; the
// telemetry as it stands now for an allocation without one. For the
// ministry and auditors only.
func ProgrammeUsageSummary(ctx context.Context, db *gorm.DB, m Month, by *User, now time.Time) ([]UsageSummaryRow, UsageSummaryRow, error) {
	if !MaySeeInvoices(by) {
		return nil, UsageSummaryRow{}, fmt.Errorf("store: usage summary: %w", ErrForbidden)
	}
	as, err := monthAllocations(ctx, db, nil, m)
	if err != nil {
		return nil, UsageSummaryRow{}, err
	}
	us, err := monthUsage(ctx, db, as, m, now)
	if err != nil {
		return nil, UsageSummaryRow{}, err
	}
	db = db.WithContext(ctx)
	recorded, err := recordedMeasurements(db, m)
	if err != nil {
		return nil, UsageSummaryRow{}, err
	}
	type sum struct {
		OrganisationID uint
		Hours          float64
		N              int
		Discrepancies  int
	}
	read := func(table, hours, extra string, args ...any) (map[uint]sum, error) {
		var sums []sum
		q := db.Table(table).Select("organisation_id, SUM("+hours+") AS hours, COUNT(*) AS n, "+
			"SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END) AS discrepancies", OutcomeDiscrepancy).
			Where("month = ?", m.String())
		if extra != "" {
			q = q.Where(extra, args...)
		}
		if err := q.Group("organisation_id").Scan(&sums).Error; err != nil {
			return nil, fmt.Errorf("store: usage summary of %s: %w", table, err)
		}
		out := map[uint]sum{}
		for _, s := range sums {
			out[s.OrganisationID] = s
		}
		return out, nil
	}
	reported, err := read("usage_reports", "gpu_hours", "state <> ?", ReportDraft)
	if err != nil {
		return nil, UsageSummaryRow{}, err
	}
	billed, err := read("invoice_lines", "billed_hours", "")
	if err != nil {
		return nil, UsageSummaryRow{}, err
	}
	var rows, teamRows []UsageSummaryRow
	total := UsageSummaryRow{}
	seen := map[uint]bool{}
	add := func(row UsageSummaryRow) {
		r, b := reported[row.Org.ID], billed[row.Org.ID]
		row.Reported, row.Reports, row.Billed, row.InvoiceLines = r.Hours, r.N, b.Hours, b.N
		row.Discrepancies = r.Discrepancies + b.Discrepancies
		rows = append(rows, row)
		total.Allocated += row.Allocated
		total.Expected += row.Expected
		total.Measured += row.Measured
		total.Recorded += row.Recorded
		total.Current += row.Current
		total.Reported += row.Reported
		total.Reports += row.Reports
		total.Billed += row.Billed
		total.InvoiceLines += row.InvoiceLines
		total.Discrepancies += row.Discrepancies
		seen[row.Org.ID] = true
	}
	// as is by team: each team's allocations in a run.
	met := map[uint]bool{}
	for i := 0; i < len(as); {
		j := i
		for j < len(as) && as[j].OrganisationID == as[i].OrganisationID {
			j++
		}
		t := teamMonthOf(as[i:j], us[i:j], m, now)
		row := UsageSummaryRow{Org: t.Org, Allocated: t.AllocatedGPUHours()}
		for k := i; k < j; k++ {
			met[as[k].ID] = true
			if v := recorded[as[k].ID]; v != nil {
				row.Expected += v.ExpectedHours
				row.Measured += v.BusyHours
				row.Recorded++
			} else {
				row.Expected += us[k].ExpectedGPUHours()
				row.Measured += us[k].BusyGPUHours()
				row.Current++
			}
		}
		i = j
		teamRows = append(teamRows, row)
	}
	slices.SortFunc(teamRows, func(a, b UsageSummaryRow) int { return cmp.Compare(a.Org.NameKO, b.Org.NameKO) })
	for _, row := range teamRows {
		add(row)
	}
	// A team reported or billed for the month without an allocation
	// meeting it now (its period since shortened) still shows, with what
	// its verifications recorded.
	var missing []uint
	for _, set := range []map[uint]sum{reported, billed} {
		for id := range set {
			if !seen[id] && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
	}
	extra := map[uint]*UsageSummaryRow{}
	for allocID, v := range recorded {
		if !met[allocID] {
			e := extra[v.orgID]
			if e == nil {
				e = &UsageSummaryRow{}
				extra[v.orgID] = e
			}
			e.Expected += v.ExpectedHours
			e.Measured += v.BusyHours
			e.Recorded++
		}
	}
	if len(missing) > 0 {
		var orgs []Organisation
		if err := db.Where("id IN ?", missing).Order("name_ko").Find(&orgs).Error; err != nil {
			return nil, UsageSummaryRow{}, fmt.Errorf("store: usage summary: %w", err)
		}
		for i := range orgs {
			row := UsageSummaryRow{}
			if e := extra[orgs[i].ID]; e != nil {
				row = *e
			}
			row.Org = &orgs[i]
			add(row)
		}
	}
	return rows, total, nil
}

// recordedMeasurement is the telemetry a verification recorded, for an
// allocation's month.
type recordedMeasurement struct {
	orgID                    uint
	ExpectedHours, BusyHours float64
}

// recordedMeasurements is, for each allocation whose report for month m
// (drafts have none) or invoice line has a verification, the figures its
// latest result recorded: the report's, or else the invoice line's.
func recordedMeasurements(db *gorm.DB, m Month) (map[uint]*recordedMeasurement, error) {
	var rs []UsageReport
	if err := db.Where("month = ? AND state <> ?", m.String(), ReportDraft).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("store: usage summary: %w", err)
	}
	latest, err := latestVerifications(db, rs)
	if err != nil {
		return nil, err
	}
	var ls []InvoiceLine
	if err := db.Where("month = ?", m.String()).Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: usage summary: %w", err)
	}
	lines, err := invoiceRows(db, ls)
	if err != nil {
		return nil, err
	}
	out := map[uint]*recordedMeasurement{}
	for _, l := range lines {
		if v := l.Latest; v != nil {
			out[l.Line.AllocationID] = &recordedMeasurement{l.Line.OrganisationID, v.ExpectedHours, v.BusyHours}
		}
	}
	for i := range rs {
		if v := latest[rs[i].ID]; v != nil {
			out[rs[i].AllocationID] = &recordedMeasurement{rs[i].OrganisationID, v.ExpectedHours, v.BusyHours}
		}
	}
	return out, nil
}
