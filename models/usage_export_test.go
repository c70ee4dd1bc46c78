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

func TestParseExportPeriod(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		from, to string
		errs     string
	}{
		{"2026-10", "2026-12", "map[]"},
		{"2026-12", "2026-12", "map[]"},
		{"2025-01", "2026-12", "map[]"},
		{"2024-12", "2026-12", "map[to:usage.export.error.long]"},
		{"2026-12", "2026-11", "map[to:usage.export.error.order]"},
		{"2026-13", "", "map[from:invoice.error.month to:invoice.error.month]"},
	} {
		if _, _, errs := models.ParseExportPeriod(c.from, c.to); fmt.Sprint(errs) != c.errs {
			t.Errorf("%s..%s: %v, want %s", c.from, c.to, errs, c.errs)
		}
	}
}

// TestUsageSummaryAndExport: the month's summary sums, per team, the
// reports (not the drafts) and the invoice lines beside the telemetry; the
// export lists each with its latest verification; the team sees neither.
func TestUsageSummaryAndExport(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-whole", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids[:2]...)
		b := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids[2:]...)
		ma, mb := measured(t, db, a), measured(t, db, b)
		ra, _, err := models.SubmitUsageReport(ctx, db, a.ID, december, honest(ma, 1), f.company, afterDecember)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := models.SaveUsageReport(ctx, db, b.ID, december, honest(mb, 1.2), f.company, afterDecember); err != nil {
			t.Fatal(err)
		}
		line, _, err := models.EnterInvoiceLine(ctx, db, models.InvoiceInput{AllocationID: fmt.Sprint(b.ID), Month: "2026-12",
			BilledHours: "2000", Availability: "100"}, f.officer, afterDecember)
		if err != nil || line.Outcome != models.OutcomeDiscrepancy {
			t.Fatalf("line: %+v %v", line, err)
		}
		rows, total, err := models.ProgrammeUsageSummary(ctx, db, december, f.auditor, afterDecember)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Org.ID != f.teamA.ID {
			t.Fatalf("rows %+v", rows)
		}
		r := rows[0]
		if !approxTol(r.Reported, ra.GPUHours, 1e-9) || r.Reports != 1 || r.Billed != 2000 || r.InvoiceLines != 1 || r.Discrepancies != 1 ||
			!approxTol(r.Measured, ma.BusyHours+mb.BusyHours, 1e-9) || !approx(r.Allocated, 4*31*24) || total.Billed != 2000 {
			t.Errorf("summary %+v, total %+v", r, total)
		}
		// The telemetry changes after the verifications (here: it is gone):
		// the summary keeps the figures they recorded, the report's for a
		// and the invoice line's for b, whose report is a draft.
		for _, table := range []string{"gpu_rollups", "gpu_rollup_days"} {
			if err := db.Exec("DELETE FROM " + table).Error; err != nil {
				t.Fatal(err)
			}
		}
		rows, total, err = models.ProgrammeUsageSummary(ctx, db, december, f.auditor, afterDecember)
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %+v %v", rows, err)
		}
		if r := rows[0]; r.Recorded != 2 || r.Current != 0 || !approxTol(r.Measured, ma.BusyHours+mb.BusyHours, 1e-9) ||
			!approxTol(r.Expected, ma.ExpectedHours+mb.ExpectedHours, 1e-9) || total.Recorded != 2 {
			t.Errorf("recorded summary %+v", r)
		}
		exp, err := models.VerificationExport(ctx, db, december, december, f.officer)
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) != 2 || exp[0].Kind != models.QueueReports || exp[0].ID != ra.ID || exp[0].Latest == nil ||
			exp[0].Latest.Outcome != models.OutcomeVerified || exp[1].Kind != models.QueueInvoices || exp[1].Latest == nil ||
			exp[1].Latest.Figure != models.FigureCapacity || exp[1].Provider != "KT Cloud" {
			t.Errorf("export %+v", exp)
		}
		if exp, err := models.VerificationExport(ctx, db, december.Next(), december.Next(), f.auditor); err != nil || len(exp) != 0 {
			t.Errorf("January: %+v %v", exp, err)
		}
		if _, err := models.VerificationExport(ctx, db, december, december, f.company); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("the team exported: %v", err)
		}
		if _, _, err := models.ProgrammeUsageSummary(ctx, db, december, f.company, afterDecember); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("the team read the summary: %v", err)
		}
	})
}
