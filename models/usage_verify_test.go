package models_test

import (
	"errors"
	"testing"

	"kaiportal/models"
)

func TestVerifyUsage(t *testing.T) {
	t.Parallel()
	// A block of 10 GPUs for 30 days: 7,200 GPU-hours of capacity, all
	// expected, 7,000 observed, 5,000 busy at a mean of 60 %, 9,000 kWh.
	full := models.UsageMeasured{AllocatedHours: 7200, ExpectedHours: 7200, ObservedHours: 7000, BusyHours: 5000,
		UnobservedHours: 200, MeanUtil: 60, EnergyKWh: 9000}
	thin := full
	thin.ObservedHours, thin.UnobservedHours = 6000, 1200 // 83 % coverage
	none := full
	none.ExpectedHours, none.ObservedHours, none.BusyHours, none.UnobservedHours = 0, 0, 0, 0
	kwh := func(v float64) *float64 { return &v }
	tol := models.DefaultUsageTolerances // ±10 % hours, ±10 points, ±15 % energy, coverage 90 %
	cases := []struct {
		name      string
		claim     models.UsageClaim
		measured  models.UsageMeasured
		tol       models.UsageTolerances
		outcome   string
		figure    string  // the first failed check
		direction string  // its direction
		diff      float64 // its difference
	}{
		{"the busy hours, honestly", models.UsageClaim{GPUHours: 5000, MeanUtil: 60}, full, tol, models.OutcomeVerified, "", "", 0},
		{"busy plus the unobserved time", models.UsageClaim{GPUHours: 5200, MeanUtil: 62}, full, tol, models.OutcomeVerified, "", "", 0},
		{"at the top of the tolerance", models.UsageClaim{GPUHours: 5720, MeanUtil: 70}, full, tol, models.OutcomeVerified, "", "", 0},
		{"at the bottom of the tolerance", models.UsageClaim{GPUHours: 4500, MeanUtil: 50}, full, tol, models.OutcomeVerified, "", "", 0},
		{"inflated by 20 %", models.UsageClaim{GPUHours: 6000, MeanUtil: 60}, full, tol, models.OutcomeDiscrepancy, models.FigureGPUHours, models.DirectionOver, 280},
		{"under-reported", models.UsageClaim{GPUHours: 4000, MeanUtil: 60}, full, tol, models.OutcomeDiscrepancy, models.FigureGPUHours, models.DirectionUnder, 500},
		{"utilisation inflated", models.UsageClaim{GPUHours: 5000, MeanUtil: 85}, full, tol, models.OutcomeDiscrepancy, models.FigureMeanUtil, models.DirectionOver, 15},
		{"energy within tolerance", models.UsageClaim{GPUHours: 5000, MeanUtil: 60, EnergyKWh: kwh(10000)}, full, tol, models.OutcomeVerified, "", "", 0},
		{"energy inflated", models.UsageClaim{GPUHours: 5000, MeanUtil: 60, EnergyKWh: kwh(12000)}, full, tol, models.OutcomeDiscrepancy, models.FigureEnergy, models.DirectionOver, 1650},
		{"coverage below the threshold", models.UsageClaim{GPUHours: 5000, MeanUtil: 60}, thin, tol, models.OutcomeInsufficient, "", "", 0},
		{"coverage below the threshold is never verified, even an exact claim", models.UsageClaim{GPUHours: 5000, MeanUtil: 60}, thin, tol, models.OutcomeInsufficient, "", "", 0},
		{"a lower threshold accepts the same coverage", models.UsageClaim{GPUHours: 5000, MeanUtil: 60}, thin,
			models.UsageTolerances{GPUHoursPct: 10, MeanUtilPoints: 10, EnergyPct: 15, CoverageThreshold: 80}, models.OutcomeVerified, "", "", 0},
		{"nothing expected yet", models.UsageClaim{GPUHours: 0, MeanUtil: 0}, none, tol, models.OutcomeInsufficient, "", "", 0},
		{"above capacity with full coverage", models.UsageClaim{GPUHours: 8000, MeanUtil: 60}, full, tol, models.OutcomeDiscrepancy, models.FigureCapacity, models.DirectionOver, 800},
		{"above capacity without telemetry", models.UsageClaim{GPUHours: 7201, MeanUtil: 60}, none, tol, models.OutcomeDiscrepancy, models.FigureCapacity, models.DirectionOver, 1},
		{"above capacity however wide the tolerance", models.UsageClaim{GPUHours: 7300, MeanUtil: 60}, full,
			models.UsageTolerances{GPUHoursPct: 100, MeanUtilPoints: 100, EnergyPct: 100, CoverageThreshold: 50}, models.OutcomeDiscrepancy, models.FigureCapacity, models.DirectionOver, 100},
		{"exactly the capacity is not above it", models.UsageClaim{GPUHours: 7200, MeanUtil: 60}, models.UsageMeasured{AllocatedHours: 7200,
			ExpectedHours: 7200, ObservedHours: 7200, BusyHours: 7200, MeanUtil: 60}, tol, models.OutcomeVerified, "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := models.VerifyUsage(c.claim, c.measured, c.tol)
			if v.Outcome != c.outcome {
				t.Fatalf("outcome %s, want %s (%+v)", v.Outcome, c.outcome, v)
			}
			f := v.Failed()
			if c.figure == "" {
				if f != nil {
					t.Fatalf("failed check %+v", f)
				}
				return
			}
			if f == nil || f.Figure != c.figure || f.Direction != c.direction || !approx(f.Difference, c.diff) {
				t.Errorf("failed check %+v, want %s %s by %v", f, c.figure, c.direction, c.diff)
			}
		})
	}
}

func TestUsageTolerancesValidate(t *testing.T) {
	t.Parallel()
	ok := models.DefaultUsageTolerances
	for _, c := range []struct {
		name  string
		edit  func(*models.UsageTolerances)
		field string
	}{
		{"defaults", func(*models.UsageTolerances) {}, ""},
		{"negative tolerance", func(t *models.UsageTolerances) { t.GPUHoursPct = -1 }, "gpu_hours_pct"},
		{"points above 100", func(t *models.UsageTolerances) { t.MeanUtilPoints = 101 }, "mean_util_points"},
		{"coverage above 100", func(t *models.UsageTolerances) { t.CoverageThreshold = 101 }, "coverage_threshold"},
		{"coverage below half", func(t *models.UsageTolerances) { t.CoverageThreshold = 40 }, "coverage_threshold"},
	} {
		tt := ok
		c.edit(&tt)
		errs := tt.Validate()
		if c.field == "" && errs.Any() || c.field != "" && !errs.Has(c.field) {
			t.Errorf("%s: %v", c.name, errs)
		}
	}
}

func TestReportTransitions(t *testing.T) {
	t.Parallel()
	bad := ""
	for _, c := range []struct{ from, action, to string }{
		{"", models.ReportActionSave, models.ReportDraft},
		{models.ReportDraft, models.ReportActionSave, models.ReportDraft},
		{models.ReportDraft, models.ReportActionSubmit, models.ReportSubmitted},
		{models.ReportSubmitted, models.ReportActionSave, bad},
		{models.ReportSubmitted, models.ReportActionSubmit, bad},
		{models.ReportSubmitted, models.ReportActionVerify, models.ReportSubmitted},
		{models.ReportSubmitted, models.ReportActionReturn, models.ReportReturned},
		{models.ReportSubmitted, models.ReportActionSignOff, models.ReportSignedOff},
		{models.ReportReturned, models.ReportActionSave, models.ReportReturned},
		{models.ReportReturned, models.ReportActionSubmit, models.ReportSubmitted},
		{models.ReportReturned, models.ReportActionSignOff, bad},
		{models.ReportDraft, models.ReportActionSignOff, bad},
		{models.ReportDraft, models.ReportActionVerify, bad},
		{models.ReportSignedOff, models.ReportActionReturn, bad},
		{models.ReportSignedOff, models.ReportActionSave, bad},
		{models.ReportSignedOff, models.ReportActionVerify, bad},
		{models.ReportDraft, "publish", bad},
	} {
		got, err := models.ReportNext(c.from, c.action)
		if c.to == bad {
			if !errors.Is(err, models.ErrInvalidTransition) {
				t.Errorf("%q %s: %q, %v; want refused", c.from, c.action, got, err)
			}
			continue
		}
		if err != nil || got != c.to {
			t.Errorf("%q %s: %q, %v; want %q", c.from, c.action, got, err, c.to)
		}
	}
}

func TestReportDueDate(t *testing.T) {
	t.Parallel()
	cal := models.KoreanCalendar{}
	for _, c := range []struct {
		month string
		day   int
		want  string
	}{
		{"2026-11", 10, "2026-12-10"}, // a Thursday
		{"2026-09", 10, "2026-10-12"}, // 10 Oct 2026 is a Saturday (and 9 Oct 한글날)
		{"2026-12", 10, "2027-01-11"}, // 10 Jan 2027 is a Sunday
		{"2026-01", 10, "2026-02-10"}, // a Tuesday
		{"2026-09", 9, "2026-10-12"},  // 9 Oct 2026: 한글날
		{"2026-02", 1, "2026-03-03"},  // 1 Mar 2026: 삼일절 on a Sunday, substitute 2 Mar
		{"2026-11", 31, "2026-12-28"}, // a day past 28 is the 28th
	} {
		m, err := models.ParseMonth(c.month)
		if err != nil {
			t.Fatal(err)
		}
		got, err := models.ReportDueDate(m, c.day, cal)
		if err != nil || got.String() != c.want {
			t.Errorf("%s day %d: %s, %v; want %s", c.month, c.day, got, err, c.want)
		}
	}
	m, _ := models.ParseMonth("2039-05")
	if _, err := models.ReportDueDate(m, 10, cal); !errors.Is(err, models.ErrNoHolidayData) {
		t.Errorf("a year without holiday data: %v", err)
	}
}
