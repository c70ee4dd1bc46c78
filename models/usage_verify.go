package models

import "math"

// Verification of a usage report against telemetry: pure functions of the
// claim, the measured figures and the settings, so that a stored result
// can always be recomputed from what it recorded.

// The outcomes of a verification.
const (
	OutcomeVerified     = "verified"     // 검증 완료: every claimed figure within tolerance of the measured range
	OutcomeDiscrepancy  = "discrepancy"  // 불일치: a claimed figure outside it, or above the allocated capacity
	OutcomeInsufficient = "insufficient" // 텔레메트리 부족: coverage below the threshold
)

// Outcomes lists the outcomes, for filters and messages.
var Outcomes = []string{OutcomeVerified, OutcomeDiscrepancy, OutcomeInsufficient}

// The figures a verification checks.
const (
	FigureCapacity = "capacity" // claimed GPU-hours against the allocated capacity
	FigureGPUHours = "gpu_hours"
	FigureMeanUtil = "mean_util"
	FigureEnergy   = "energy"
	// An invoice's figures.
	FigureBilled       = "billed"
	FigureAvailability = "availability"
)

// Figures lists the checked figures, for messages.
var Figures = []string{FigureCapacity, FigureGPUHours, FigureMeanUtil, FigureEnergy, FigureBilled, FigureAvailability}

// The directions of a difference.
const (
	DirectionOver  = "over"  // the claim is above the measured range
	DirectionUnder = "under" // the claim is below it
)

// UsageTolerances are the settings a verification applies.
type UsageTolerances struct {
	GPUHoursPct       float64 // a claim may lie this many percent outside the measured GPU-hours range
	MeanUtilPoints    float64 // a claimed mean utilisation may differ by this many percentage points
	EnergyPct         float64 // a claimed energy may differ by this many percent
	CoverageThreshold float64 // coverage below this percentage gives insufficient telemetry
	// AvailabilityPoints: an invoice's claimed availability may lie this
	// many percentage points outside the delivered range.
	AvailabilityPoints float64
	// AvailabilityByGPUHours is the rule of the results recorded before
	// availability had its own tolerance: its range widened by GPUHoursPct
	// percent. Only a stored result sets it, so that it recomputes as it was.
	AvailabilityByGPUHours bool
}

// DefaultUsageTolerances are the tolerances before an officer changes them.
var DefaultUsageTolerances = UsageTolerances{GPUHoursPct: 10, MeanUtilPoints: 10, EnergyPct: 15, CoverageThreshold: 90,
	AvailabilityPoints: DefaultAvailabilityPoints}

// DefaultAvailabilityPoints is the availability tolerance before an officer
// changes it, in percentage points.
const DefaultAvailabilityPoints = 2

// Validate checks tolerances as an officer typed them.
func (t UsageTolerances) Validate() FieldErrors {
	errs := FieldErrors{}
	check := func(field string, v, hi float64) {
		if math.IsNaN(v) || v < 0 || v > hi {
			errs.Add(field, "usage.settings.error.range")
		}
	}
	check("gpu_hours_pct", t.GPUHoursPct, 100)
	check("mean_util_points", t.MeanUtilPoints, 100)
	check("energy_pct", t.EnergyPct, 100)
	check("coverage_threshold", t.CoverageThreshold, 100)
	check("availability_points", t.AvailabilityPoints, 100)
	if !errs.Has("coverage_threshold") && t.CoverageThreshold < 50 {
		// Below half the expected time a result would say too little.
		errs.Add("coverage_threshold", "usage.settings.error.coverage_low")
	}
	return errs
}

// UsageClaim is what a report claims for its allocation and month.
type UsageClaim struct {
	GPUHours  float64
	MeanUtil  float64  // percent
	EnergyKWh *float64 // optional
}

// UsageMeasured is what the telemetry says for the report's allocation and
// month (from AllocationUsage), in hours and kWh.
type UsageMeasured struct {
	AllocatedHours  float64 // the block's capacity in the month: GPUs × the period's hours in it
	ExpectedHours   float64 // up to now, downtime windows excluded
	ObservedHours   float64
	BusyHours       float64
	UnobservedHours float64
	DownHours       float64
	MeanUtil        float64 // time-weighted, percent
	EnergyKWh       float64
	XIDEvents       int
	EnergyAnomalies int
}

// Coverage is observed ÷ expected, in percent (0 when nothing is expected).
func (m UsageMeasured) Coverage() float64 {
	if m.ExpectedHours <= 0 {
		return 0
	}
	return 100 * m.ObservedHours / m.ExpectedHours
}

// InServiceHours is the expected time the telemetry covers: expected less
// unobserved.
func (m UsageMeasured) InServiceHours() float64 { return max(m.ExpectedHours-m.UnobservedHours, 0) }

// MeasuredUsage reads the figures a verification needs from a Usage.
func MeasuredUsage(u Usage) UsageMeasured {
	return UsageMeasured{
		AllocatedHours:  float64(u.Allocated) * u.To.Sub(u.From).Hours(),
		ExpectedHours:   u.ExpectedGPUHours(),
		ObservedHours:   u.ObservedGPUHours(),
		BusyHours:       u.BusyGPUHours(),
		UnobservedHours: u.UnobservedGPUHours(),
		DownHours:       u.DownGPUHours(),
		MeanUtil:        u.MeanUtil(),
		EnergyKWh:       u.EnergyKWh(),
		XIDEvents:       u.XIDCount,
		EnergyAnomalies: u.EnergyAnomalies,
	}
}

// UsageCheck is one claimed figure against its accepted range.
type UsageCheck struct {
	Figure     string
	Claimed    float64
	Low, High  float64 // the accepted range, tolerance included
	Difference float64 // how far the claim lies outside it (0 inside)
	Direction  string  // DirectionOver or DirectionUnder when outside
	OK         bool
}

// UsageVerdict is the outcome and the checks that gave it.
type UsageVerdict struct {
	Outcome  string
	Coverage float64 // percent
	Checks   []UsageCheck
}

// Failed is the first check outside its range, or nil.
func (v UsageVerdict) Failed() *UsageCheck {
	for i := range v.Checks {
		if !v.Checks[i].OK {
			return &v.Checks[i]
		}
	}
	return nil
}

// epsilon absorbs rounding in figures summed from many rows.
const epsilon = 1e-6

// check places a claim against [low, high].
func check(figure string, claimed, low, high float64) UsageCheck {
	c := UsageCheck{Figure: figure, Claimed: claimed, Low: low, High: high, OK: true}
	switch {
	case claimed > high+epsilon:
		c.OK, c.Direction, c.Difference = false, DirectionOver, claimed-high
	case claimed < low-epsilon:
		c.OK, c.Direction, c.Difference = false, DirectionUnder, low-claimed
	}
	return c
}

// VerifyUsage compares a team's claim with the measured figures.
//
//   - A claim of more GPU-hours than the allocation's capacity for the month
//     is a discrepancy, whatever the telemetry.
//   - Otherwise, coverage below the threshold is insufficient telemetry:
//     a claim is never verified on missing data.
//   - Otherwise the claimed GPU-hours must lie in the measured range, from
//     the busy GPU-hours (as if the unobserved time was idle) to busy plus
//     unobserved (as if it was all busy), widened by the tolerance; the
//     mean utilisation within the tolerance in points; the energy, when
//     claimed and measured, within the tolerance in percent.
func VerifyUsage(c UsageClaim, m UsageMeasured, t UsageTolerances) UsageVerdict {
	return verifyClaim(c.GPUHours, m, t, func() []UsageCheck {
		tol := t.GPUHoursPct / 100
		checks := []UsageCheck{
			check(FigureGPUHours, c.GPUHours, m.BusyHours*(1-tol), (m.BusyHours+m.UnobservedHours)*(1+tol)),
			check(FigureMeanUtil, c.MeanUtil, max(m.MeanUtil-t.MeanUtilPoints, 0), min(m.MeanUtil+t.MeanUtilPoints, 100))}
		if c.EnergyKWh != nil && m.EnergyKWh > 0 {
			e := t.EnergyPct / 100
			checks = append(checks, check(FigureEnergy, *c.EnergyKWh, m.EnergyKWh*(1-e), m.EnergyKWh*(1+e)))
		}
		return checks
	})
}

// verifyClaim is the rule every verification follows, a team's report and
// a provider's invoice alike: GPU-hours claimed above the allocated
// capacity are a discrepancy whatever the telemetry; otherwise coverage
// below the threshold is insufficient telemetry (never verified on missing
// data); otherwise the claim is verified when every figure that checks
// gives lies in its accepted range, and a discrepancy when one does not.
func verifyClaim(claimedHours float64, m UsageMeasured, t UsageTolerances, checks func() []UsageCheck) UsageVerdict {
	v := UsageVerdict{Coverage: m.Coverage()}
	capacity := check(FigureCapacity, claimedHours, 0, m.AllocatedHours)
	if !capacity.OK && capacity.Direction == DirectionOver {
		v.Outcome, v.Checks = OutcomeDiscrepancy, []UsageCheck{capacity}
		return v
	}
	if m.ExpectedHours <= 0 || v.Coverage < t.CoverageThreshold-epsilon {
		v.Outcome = OutcomeInsufficient
		return v
	}
	v.Checks = checks()
	v.Outcome = OutcomeVerified
	if v.Failed() != nil {
		v.Outcome = OutcomeDiscrepancy
	}
	return v
}

// InvoiceClaim is what a provider bills for an allocation's month.
type InvoiceClaim struct {
	BilledHours  float64 // GPU-hours billed
	Availability float64 // availability claimed, percent of the allocated time
}

// VerifyInvoice compares a provider's invoice line with the measured
// figures, by the same rule as a report (verifyClaim): billed GPU-hours
// above the allocated capacity are a discrepancy; coverage below the
// threshold is insufficient telemetry. Otherwise the provider delivered
// between the in-service GPU-hours (expected less unobserved: the time
// outside downtime that the telemetry saw the GPUs) and the expected
// GPU-hours (the allocated time less the downtime windows, as if every
// unobserved hour was delivered):
//
//   - the billed GPU-hours must lie in [in service, expected], widened by
//     the GPU-hours tolerance;
//   - the claimed availability must lie in [in service ÷ allocated,
//     expected ÷ allocated] (expected being allocated less down), in percent,
//     widened by the availability tolerance in percentage points (its own
//     setting) and at most 100 %.
func VerifyInvoice(c InvoiceClaim, m UsageMeasured, t UsageTolerances) UsageVerdict {
	return verifyClaim(c.BilledHours, m, t, func() []UsageCheck {
		tol := t.GPUHoursPct / 100
		seen := m.InServiceHours()
		checks := []UsageCheck{check(FigureBilled, c.BilledHours, seen*(1-tol), m.ExpectedHours*(1+tol))}
		if m.AllocatedHours > 0 {
			low, high := 100*seen/m.AllocatedHours, 100*m.ExpectedHours/m.AllocatedHours
			if t.AvailabilityByGPUHours {
				low, high = low*(1-tol), high*(1+tol)
			} else {
				low, high = max(low-t.AvailabilityPoints, 0), high+t.AvailabilityPoints
			}
			checks = append(checks, check(FigureAvailability, c.Availability, low, min(high, 100)))
		}
		return checks
	})
}
