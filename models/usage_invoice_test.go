package models_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestVerifyInvoice(t *testing.T) {
	t.Parallel()
	// A block of 10 GPUs for 30 days: 7,200 GPU-hours allocated; a window
	// of 720 GPU-hours down leaves 6,480 expected, of which the telemetry
	// saw 6,300 (180 unobserved): availability between 87.5 % and 90 %.
	m := models.UsageMeasured{AllocatedHours: 7200, ExpectedHours: 6480, ObservedHours: 6300, UnobservedHours: 180,
		DownHours: 720, BusyHours: 3000, MeanUtil: 40}
	thin := m
	thin.ObservedHours, thin.UnobservedHours = 5480, 1000 // 84.6 % coverage
	tol := models.DefaultUsageTolerances                  // ±10 %, availability ±2 points, coverage 90 %
	strict := tol
	strict.GPUHoursPct, strict.AvailabilityPoints = 0, 0
	wideAvailability := strict
	wideAvailability.AvailabilityPoints = 10
	legacy := tol // a result recorded before availability had its own tolerance
	legacy.AvailabilityByGPUHours = true
	cases := []struct {
		name      string
		claim     models.InvoiceClaim
		measured  models.UsageMeasured
		tol       models.UsageTolerances
		outcome   string
		figure    string
		direction string
		diff      float64
	}{
		{"what was delivered", models.InvoiceClaim{BilledHours: 6480, Availability: 90}, m, strict, models.OutcomeVerified, "", "", 0},
		{"what the telemetry saw", models.InvoiceClaim{BilledHours: 6300, Availability: 87.5}, m, strict, models.OutcomeVerified, "", "", 0},
		{"the whole allocation, downtime billed", models.InvoiceClaim{BilledHours: 7200, Availability: 100}, m, strict,
			models.OutcomeDiscrepancy, models.FigureBilled, models.DirectionOver, 720},
		{"availability claimed without the downtime", models.InvoiceClaim{BilledHours: 6480, Availability: 100}, m, strict,
			models.OutcomeDiscrepancy, models.FigureAvailability, models.DirectionOver, 10},
		{"within the tolerance", models.InvoiceClaim{BilledHours: 7100, Availability: 91.5}, m, tol, models.OutcomeVerified, "", "", 0},
		{"availability within the GPU-hours tolerance, not its own", models.InvoiceClaim{BilledHours: 7100, Availability: 98}, m, tol,
			models.OutcomeDiscrepancy, models.FigureAvailability, models.DirectionOver, 6},
		{"availability by its own tolerance, GPU-hours strict", models.InvoiceClaim{BilledHours: 6480, Availability: 100}, m, wideAvailability,
			models.OutcomeVerified, "", "", 0},
		{"an earlier result recomputed by its rule", models.InvoiceClaim{BilledHours: 7100, Availability: 98}, m, legacy,
			models.OutcomeVerified, "", "", 0},
		{"billed below what was seen", models.InvoiceClaim{BilledHours: 6000, Availability: 85}, m, strict,
			models.OutcomeDiscrepancy, models.FigureBilled, models.DirectionUnder, 300},
		{"above the capacity", models.InvoiceClaim{BilledHours: 7300, Availability: 100}, thin, tol,
			models.OutcomeDiscrepancy, models.FigureCapacity, models.DirectionOver, 100},
		{"thin telemetry", models.InvoiceClaim{BilledHours: 6480, Availability: 90}, thin, tol, models.OutcomeInsufficient, "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := models.VerifyInvoice(c.claim, c.measured, c.tol)
			if v.Outcome != c.outcome {
				t.Fatalf("outcome %s, want %s (%+v)", v.Outcome, c.outcome, v.Checks)
			}
			f := v.Failed()
			if c.figure == "" {
				if f != nil {
					t.Errorf("failed %+v", f)
				}
				return
			}
			if f == nil || f.Figure != c.figure || f.Direction != c.direction || !approx(f.Difference, c.diff) {
				t.Errorf("failed %+v, want %s %s %v", f, c.figure, c.direction, c.diff)
			}
		})
	}
}

// invoiceCSV is a file of lines for December.
func invoiceCSV(rows ...string) []byte {
	return []byte("allocation_id,month,billed_gpu_hours,availability_pct,reference\n" + strings.Join(rows, "\n") + "\n")
}

func TestInvoiceLinesWithSimulator(t *testing.T) {
	t.Parallel()
	down := func(at time.Time) bool { return !at.Before(decKST(8, 0, 0)) && at.Before(decKST(15, 0, 0)) }
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-down", down)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids...)
		full := 4 * 31 * 24.0
		line := func(billed, avail float64) models.InvoiceInput {
			return models.InvoiceInput{AllocationID: fmt.Sprint(a.ID), Month: "2026-12", BilledHours: fmt.Sprint(billed),
				Availability: fmt.Sprint(avail), Reference: "KT-2026-12-001"}
		}
		// Only the ministry enters lines; a month is billed once it is over.
		if _, _, err := models.EnterInvoiceLine(ctx, db, line(full, 100), f.auditor, afterDecember); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("an auditor entered a line: %v", err)
		}
		if _, errs, err := models.EnterInvoiceLine(ctx, db, line(full, 100), f.officer, decKST(20, 0, 0)); !errors.Is(err, models.ErrInvalid) ||
			errs["month"] != "invoice.error.month_open" {
			t.Errorf("an open month: %v %v", errs, err)
		}
		// Down a week without a window: insufficient telemetry.
		l, errs, err := models.EnterInvoiceLine(ctx, db, line(full, 100), f.officer, afterDecember)
		if err != nil {
			t.Fatalf("enter: %v %v", err, errs)
		}
		if l.State != models.ReportSubmitted || l.Outcome != models.OutcomeInsufficient || l.Provider != "KT Cloud" {
			t.Fatalf("entered: %+v", l)
		}
		if _, errs, err := models.EnterInvoiceLine(ctx, db, line(full, 100), f.officer, afterDecember); !errors.Is(err, models.ErrInvalid) ||
			errs["allocation_id"] != "invoice.error.exists" {
			t.Errorf("entered twice: %v %v", errs, err)
		}
		// With the window, the provider billed the week it did not deliver: a discrepancy.
		if _, _, err := models.CreateDowntime(ctx, db, models.DowntimeInput{ClusterID: f.sim.ID, Start: "2026-12-08T00:00",
			End: "2026-12-15T00:00", Kind: models.DowntimeOutage, Reason: "냉각 설비 고장"}, f.officer, janKST(6, 9)); err != nil {
			t.Fatal(err)
		}
		v, err := models.VerifyInvoiceLineAgain(ctx, db, l.ID, f.auditor, janKST(6, 10))
		if err != nil || v.Outcome != models.OutcomeDiscrepancy || v.Figure != models.FigureBilled || v.Direction != models.DirectionOver ||
			!approx(v.Difference, full-(full-4*7*24)*1.1) {
			t.Fatalf("billed the outage: %+v %v", v, err)
		}
		if v.Verdict().Outcome != v.Outcome || v.InvoiceID != l.ID || v.ReportID != 0 {
			t.Errorf("the recorded result recomputes as %s: %+v", v.Verdict().Outcome, v)
		}
		// The auditor returns it; the officer enters the corrected line: verified.
		if _, err := models.ReturnInvoiceLine(ctx, db, l.ID, "장애 기간을 빼고 다시 청구하도록 요청하십시오.", f.auditor, janKST(7, 10)); err != nil {
			t.Fatal(err)
		}
		delivered := full - 4*7*24
		l2, errs, err := models.EnterInvoiceLine(ctx, db, line(delivered, 100*delivered/full), f.officer, janKST(8, 10))
		if err != nil || l2.ID != l.ID || l2.Outcome != models.OutcomeVerified {
			t.Fatalf("corrected: %+v %v %v", l2, errs, err)
		}
		if err := models.SignOffInvoiceLine(ctx, db, l.ID, f.officer, janKST(9, 10)); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("an officer signed off: %v", err)
		}
		if err := models.SignOffInvoiceLine(ctx, db, l.ID, f.auditor, janKST(9, 10)); err != nil {
			t.Fatal(err)
		}
		events, vs, err := models.InvoiceHistory(ctx, db, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action+":"+e.ToState)
		}
		if fmt.Sprint(actions) != "[enter:submitted return:returned enter:submitted sign_off:signed_off]" || len(vs) != 3 {
			t.Errorf("history %v, %d verifications", actions, len(vs))
		}
		// The team never sees invoices.
		if _, err := models.GetInvoiceLine(ctx, db, l.ID, f.company); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("the team read the invoice: %v", err)
		}
		q, err := models.ReportQueue(ctx, db, models.ReportFilter{Kind: models.QueueInvoices, State: models.ReportSignedOff}, f.auditor)
		rows := q.Rows
		if err != nil || len(rows) != 1 || q.Total != 1 || rows[0].Invoice == nil || rows[0].Invoice.ID != l.ID {
			t.Errorf("queue of invoices: %+v %v", rows, err)
		}
	})
}

func TestImportInvoiceLines(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newReportFixture(t, db, "sim-whole", nil)
		a := f.allocate(t, "2026-12-01", "2027-03-31", f.uuids[:2]...)
		b := f.allocate(t, "2026-12-16", "2027-03-31", f.uuids[2:]...)
		id := func(x *models.Allocation) string { return fmt.Sprint(x.ID) }
		count := func() (n int64) {
			db.Model(&models.InvoiceLine{}).Count(&n)
			return n
		}
		cases := []struct {
			name   string
			data   []byte
			faults string
		}{
			{"empty", nil, "[{0  invoice.import.empty}]"},
			{"a column missing", []byte("allocation_id,month,billed_gpu_hours\n1,2026-12,10\n"),
				"[{1 availability_pct invoice.import.missing_column}]"},
			{"every fault of every row", invoiceCSV(
				id(a)+",2026-12,1400,99.5,KT-1",
				"999999,2026-12,10,100,",
				id(b)+",2026-13,ten,101,",
				id(b)+",2026-11,10,100,",
				id(a)+",2026-12,1400,99.5,KT-1 again"),
				"[{3 allocation_id invoice.error.allocation} {4 month invoice.error.month} {4 billed_gpu_hours usage.error.number} " +
					"{4 availability_pct usage.error.percent} {5 month invoice.error.outside} {6 allocation_id invoice.import.duplicate}]"},
		}
		for _, c := range cases {
			_, err := models.ImportInvoiceLines(ctx, db, "kt.csv", c.data, f.officer, afterDecember)
			var fe *models.InvoiceFileError
			if !errors.As(err, &fe) || !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := fmt.Sprint(fe.Errors); got != c.faults {
				t.Errorf("%s: faults %s\nwant %s", c.name, got, c.faults)
			}
			if n := count(); n != 0 {
				t.Fatalf("%s: %d lines recorded from a refused file", c.name, n)
			}
		}
		// A valid file (BOM, columns in another order) is recorded whole and verified.
		data := []byte("\ufeffmonth,allocation_id,availability_pct,billed_gpu_hours\n" +
			"2026-12," + id(a) + ",99.9,1488\n2026-12," + id(b) + ",100,1000\n")
		long := strings.Repeat("청구서", 40) + ".csv" // longer than an audit row's object name
		ls, err := models.ImportInvoiceLines(ctx, db, long, data, f.officer, afterDecember)
		if err != nil || len(ls) != 2 {
			t.Fatalf("import: %v %+v", err, ls)
		}
		if ls[0].Outcome != models.OutcomeVerified || ls[1].Outcome != models.OutcomeDiscrepancy {
			t.Errorf("outcomes %s %s (b has 16 days of 2 GPUs: 768 GPU-hours, 1,000 billed)", ls[0].Outcome, ls[1].Outcome)
		}
		// The same file again: every line is waiting already.
		_, err = models.ImportInvoiceLines(ctx, db, "kt.csv", data, f.officer, afterDecember)
		var fe *models.InvoiceFileError
		if !errors.As(err, &fe) || fmt.Sprint(fe.Errors) != "[{2 allocation_id invoice.error.exists} {3 allocation_id invoice.error.exists}]" {
			t.Errorf("again: %v", err)
		}
	})
}
