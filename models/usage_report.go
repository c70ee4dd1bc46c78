package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A usage report is a team's account, per allocation and month, of how it
// used the GPUs lent to it. The portal checks it against the telemetry
// (VerifyUsage) and an auditor signs it off or returns it with a note.

// The states of a usage report.
const (
	ReportDraft     = "draft"
	ReportSubmitted = "submitted"
	ReportReturned  = "returned"
	ReportSignedOff = "signed_off"
)

// ReportStates lists the states, for messages.
var ReportStates = []string{ReportDraft, ReportSubmitted, ReportReturned, ReportSignedOff}

// The actions on a report (its history rows and audit actions).
const (
	ReportActionSave    = "save"
	ReportActionSubmit  = "submit"
	ReportActionReturn  = "return"
	ReportActionSignOff = "sign_off"
	ReportActionVerify  = "verify"
)

// ReportActions lists the actions, for messages.
var ReportActions = []string{ReportActionSave, ReportActionSubmit, ReportActionReturn, ReportActionSignOff, ReportActionVerify}

// reportTransitions are the states each action may start from, and where it leads.
var reportTransitions = map[string]struct {
	from []string
	to   string // "" keeps the state
}{
	ReportActionSave:    {[]string{"", ReportDraft, ReportReturned}, ""},
	ReportActionSubmit:  {[]string{ReportDraft, ReportReturned}, ReportSubmitted},
	ReportActionReturn:  {[]string{ReportSubmitted}, ReportReturned},
	ReportActionSignOff: {[]string{ReportSubmitted}, ReportSignedOff},
	ReportActionVerify:  {[]string{ReportSubmitted}, ""},
}

// ReportNext is the state action leads to from state, or ErrInvalidTransition.
func ReportNext(state, action string) (string, error) {
	tr, ok := reportTransitions[action]
	if !ok {
		return "", fmt.Errorf("report %s: %w", action, ErrInvalidTransition)
	}
	for _, f := range tr.from {
		if f == state {
			if tr.to == "" {
				if state == "" {
					return ReportDraft, nil
				}
				return state, nil
			}
			return tr.to, nil
		}
	}
	return "", fmt.Errorf("report %s from %q: %w", action, state, ErrInvalidTransition)
}

// UsageReport is one allocation's report for one month.
type UsageReport struct {
	ID             uint          `gorm:"primaryKey"`
	AllocationID   uint          `gorm:"not null;uniqueIndex:idx_usage_report_month"`
	Allocation     *Allocation   `gorm:"constraint:OnDelete:RESTRICT"`
	OrganisationID uint          `gorm:"not null;index"`
	Organisation   *Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	Month          string        `gorm:"size:7;not null;uniqueIndex:idx_usage_report_month;index"` // 2006-01, KST
	State          string        `gorm:"size:16;not null;index"`
	GPUHours       float64       `gorm:"column:gpu_hours;not null"`
	MeanUtil       float64       `gorm:"not null"`
	EnergyKWh      *float64      `gorm:"column:energy_kwh"`
	Purpose        string        `gorm:"type:text;not null"`
	Workloads      string        `gorm:"type:text;not null"` // the main workloads, free text
	JobNames       string        `gorm:"type:text;not null"` // job or pod names, one a line (optional)
	Outages        string        `gorm:"type:text;not null"` // outages the team notes
	DueDate        string        `gorm:"size:10;not null"`   // 2006-01-02, KST, the last day on time
	SubmittedAt    *time.Time    // the latest submission
	Late           bool          `gorm:"not null;default:false"` // first submitted after the due date
	ReturnNote     string        `gorm:"type:text;not null;default:''"`
	SignedOffByID  *uint
	SignedOffAt    *time.Time
	// The latest verification's outcome, for lists and filters ("" before any).
	Outcome   string `gorm:"size:16;not null;default:'';index"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ReportMonth is the report's month.
func (r *UsageReport) ReportMonth() Month {
	m, _ := ParseMonth(r.Month)
	return m
}

// Editable reports whether the team may still change the report.
func (r *UsageReport) Editable() bool {
	return r.ID == 0 || r.State == ReportDraft || r.State == ReportReturned
}

// UsageReportEvent is one row of a report's history: an action, who took
// it, and the figures claimed at that moment.
type UsageReportEvent struct {
	ID        uint      `gorm:"primaryKey"`
	ReportID  uint      `gorm:"not null;index"`
	Action    string    `gorm:"size:16;not null"`
	FromState string    `gorm:"size:16;not null"`
	ToState   string    `gorm:"size:16;not null"`
	ActorID   uint      `gorm:"not null"`
	Actor     string    `gorm:"size:255;not null"`
	Note      string    `gorm:"type:text;not null"`
	GPUHours  float64   `gorm:"column:gpu_hours;not null"`
	MeanUtil  float64   `gorm:"not null"`
	EnergyKWh *float64  `gorm:"column:energy_kwh"`
	At        time.Time `gorm:"not null"`
}

// UsageSettings is one version of the verification settings: the rows are
// never changed, the latest is in force, the earlier ones are the history.
type UsageSettings struct {
	ID                uint    `gorm:"primaryKey"`
	GPUHoursPct       float64 `gorm:"column:gpu_hours_pct;not null"`
	MeanUtilPoints    float64 `gorm:"not null"`
	EnergyPct         float64 `gorm:"not null"`
	CoverageThreshold float64 `gorm:"not null"`
	// AvailabilityPoints is the invoices' availability tolerance, in
	// percentage points (versions saved before it existed carry the default).
	AvailabilityPoints float64 `gorm:"not null"`
	DueDay             int     `gorm:"not null"` // reports are due on this day of the next month (moved to a working day)
	Note               string  `gorm:"type:text;not null"`
	SetByID            uint    `gorm:"not null"`
	SetAt              time.Time
}

// TableName names the settings table.
func (UsageSettings) TableName() string { return "usage_settings" }

// DefaultDueDay is the day of the next month a report is due before an officer changes it.
const DefaultDueDay = 10

// Tolerances are the settings' tolerances.
func (s UsageSettings) Tolerances() UsageTolerances {
	return UsageTolerances{GPUHoursPct: s.GPUHoursPct, MeanUtilPoints: s.MeanUtilPoints, EnergyPct: s.EnergyPct,
		CoverageThreshold: s.CoverageThreshold, AvailabilityPoints: s.AvailabilityPoints}
}

// defaultUsageSettings is in force before an officer saves any (ID 0).
func defaultUsageSettings() UsageSettings {
	t := DefaultUsageTolerances
	return UsageSettings{GPUHoursPct: t.GPUHoursPct, MeanUtilPoints: t.MeanUtilPoints, EnergyPct: t.EnergyPct,
		CoverageThreshold: t.CoverageThreshold, AvailabilityPoints: t.AvailabilityPoints, DueDay: DefaultDueDay}
}

// VerificationResult is one verification of a report: the outcome, the settings
// it applied and the telemetry figures it was computed from. Rows are
// never changed; a new verification adds a row.
type VerificationResult struct {
	ID       uint `gorm:"primaryKey"`
	ReportID uint `gorm:"not null;index"` // 0 for an invoice line's
	// InvoiceID is the invoice line verified (0 for a report's).
	InvoiceID uint      `gorm:"not null;default:0;index"`
	At        time.Time `gorm:"not null"`
	Trigger   string    `gorm:"size:16;not null"` // ReportActionSubmit or ReportActionVerify
	ByID      uint      `gorm:"not null"`
	Outcome   string    `gorm:"size:16;not null"`
	// The claim as verified.
	ClaimGPUHours  float64  `gorm:"column:claim_gpu_hours;not null"`
	ClaimMeanUtil  float64  `gorm:"not null"`
	ClaimEnergyKWh *float64 `gorm:"column:claim_energy_kwh"`
	// An invoice line's claimed availability, percent (nil for a report).
	ClaimAvailability *float64
	// The settings applied (SettingsID 0: the defaults).
	SettingsID        uint    `gorm:"not null"`
	GPUHoursPct       float64 `gorm:"column:gpu_hours_pct;not null"`
	MeanUtilPoints    float64 `gorm:"not null"`
	EnergyPct         float64 `gorm:"not null"`
	CoverageThreshold float64 `gorm:"not null"`
	// AvailabilityPoints is the availability tolerance applied; nil on the
	// results recorded before it was a setting, whose availability range
	// was widened by GPUHoursPct percent.
	AvailabilityPoints *float64
	// The telemetry figures.
	AllocatedHours  float64 `gorm:"not null"`
	ExpectedHours   float64 `gorm:"not null"`
	ObservedHours   float64 `gorm:"not null"`
	BusyHours       float64 `gorm:"not null"`
	UnobservedHours float64 `gorm:"not null"`
	DownHours       float64 `gorm:"not null"`
	MeanUtil        float64 `gorm:"not null"`
	EnergyKWh       float64 `gorm:"column:energy_kwh;not null"`
	XIDEvents       int     `gorm:"column:xid_events;not null"`
	EnergyAnomalies int     `gorm:"not null"`
	// The first figure outside its range (discrepancy): how far, which way.
	Figure     string  `gorm:"size:16;not null;default:''"`
	Difference float64 `gorm:"not null;default:0"`
	Direction  string  `gorm:"size:8;not null;default:''"`
}

// Claim is the claim the verification checked.
func (v *VerificationResult) Claim() UsageClaim {
	return UsageClaim{GPUHours: v.ClaimGPUHours, MeanUtil: v.ClaimMeanUtil, EnergyKWh: v.ClaimEnergyKWh}
}

// Measured is the telemetry it checked the claim against.
func (v *VerificationResult) Measured() UsageMeasured {
	return UsageMeasured{AllocatedHours: v.AllocatedHours, ExpectedHours: v.ExpectedHours, ObservedHours: v.ObservedHours,
		BusyHours: v.BusyHours, UnobservedHours: v.UnobservedHours, DownHours: v.DownHours, MeanUtil: v.MeanUtil,
		EnergyKWh: v.EnergyKWh, XIDEvents: v.XIDEvents, EnergyAnomalies: v.EnergyAnomalies}
}

// Tolerances are the settings it applied.
func (v *VerificationResult) Tolerances() UsageTolerances {
	t := UsageTolerances{GPUHoursPct: v.GPUHoursPct, MeanUtilPoints: v.MeanUtilPoints, EnergyPct: v.EnergyPct,
		CoverageThreshold: v.CoverageThreshold, AvailabilityByGPUHours: v.AvailabilityPoints == nil}
	if v.AvailabilityPoints != nil {
		t.AvailabilityPoints = *v.AvailabilityPoints
	}
	return t
}

// Verdict recomputes the checks from what the row recorded: a report's
// claim by VerifyUsage, an invoice line's by VerifyInvoice.
func (v *VerificationResult) Verdict() UsageVerdict {
	if v.InvoiceID != 0 {
		c := InvoiceClaim{BilledHours: v.ClaimGPUHours}
		if v.ClaimAvailability != nil {
			c.Availability = *v.ClaimAvailability
		}
		return VerifyInvoice(c, v.Measured(), v.Tolerances())
	}
	return VerifyUsage(v.Claim(), v.Measured(), v.Tolerances())
}

// Coverage is the recorded coverage, percent.
func (v *VerificationResult) Coverage() float64 { return v.Measured().Coverage() }

// ReportDueDate is when a month's reports are due: dueDay of the next month,
// or the next working day when that is a weekend or a holiday in cal (the
// rule the appeal windows follow).
func ReportDueDate(m Month, dueDay int, cal HolidayCalendar) (Date, error) {
	next := m.Next()
	day := NewDate(next.First.Year, next.First.Month, min(max(dueDay, 1), 28))
	return WorkingDayOnOrAfter(day, cal)
}

// ReportInput is the team's form.
type ReportInput struct {
	GPUHours, MeanUtil, EnergyKWh string
	Purpose, Workloads, JobNames  string
	Outages                       string
}

// Limits of the report's texts.
const (
	MaxReportText = 4000
	MaxJobNames   = 4000
)

// parseFigure reads a non-negative number, commas allowed.
func parseFigure(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0
}

// apply checks the form and copies it into r.
func (in ReportInput) apply(r *UsageReport) FieldErrors {
	errs := FieldErrors{}
	if v, ok := parseFigure(in.GPUHours); !ok {
		errs.Add("gpu_hours", "usage.error.number")
	} else {
		r.GPUHours = v
	}
	if v, ok := parseFigure(in.MeanUtil); !ok || v > 100 {
		errs.Add("mean_util", "usage.error.percent")
	} else {
		r.MeanUtil = v
	}
	r.EnergyKWh = nil
	if strings.TrimSpace(in.EnergyKWh) != "" {
		if v, ok := parseFigure(in.EnergyKWh); !ok {
			errs.Add("energy_kwh", "usage.error.number")
		} else {
			r.EnergyKWh = &v
		}
	}
	r.Purpose, r.Workloads = strings.TrimSpace(in.Purpose), strings.TrimSpace(in.Workloads)
	r.JobNames, r.Outages = strings.TrimSpace(in.JobNames), strings.TrimSpace(in.Outages)
	if r.Purpose == "" {
		errs.Add("purpose", "form.required")
	}
	if r.Workloads == "" {
		errs.Add("workloads", "form.required")
	}
	errs.CheckText("purpose", r.Purpose, MaxReportText, MultiLine)
	errs.CheckText("workloads", r.Workloads, MaxReportText, MultiLine)
	errs.CheckText("job_names", r.JobNames, MaxJobNames, MultiLine)
	errs.CheckText("outages", r.Outages, MaxReportText, MultiLine)
	return errs
}

// InputOf is the form filled with a saved report.
func InputOf(r *UsageReport) ReportInput {
	in := ReportInput{Purpose: r.Purpose, Workloads: r.Workloads, JobNames: r.JobNames, Outages: r.Outages}
	if r.ID != 0 {
		in.GPUHours = strconv.FormatFloat(r.GPUHours, 'f', -1, 64)
		in.MeanUtil = strconv.FormatFloat(r.MeanUtil, 'f', -1, 64)
	}
	if r.EnergyKWh != nil {
		in.EnergyKWh = strconv.FormatFloat(*r.EnergyKWh, 'f', -1, 64)
	}
	return in
}

// CurrentUsageSettings is the settings version in force (the defaults,
// ID 0, before an officer saves any).
func CurrentUsageSettings(ctx context.Context, db *gorm.DB) (UsageSettings, error) {
	var s UsageSettings
	err := db.WithContext(ctx).Order("id DESC").Limit(1).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return defaultUsageSettings(), nil
	}
	if err != nil {
		return UsageSettings{}, fmt.Errorf("store: usage settings: %w", err)
	}
	return s, nil
}

// ListUsageSettings is every saved version, latest first.
func ListUsageSettings(ctx context.Context, db *gorm.DB) ([]UsageSettings, error) {
	var ss []UsageSettings
	if err := db.WithContext(ctx).Order("id DESC").Find(&ss).Error; err != nil {
		return nil, fmt.Errorf("store: usage settings history: %w", err)
	}
	return ss, nil
}

// UsageSettingsInput is the officer's form.
type UsageSettingsInput struct {
	GPUHoursPct, MeanUtilPoints, EnergyPct, CoverageThreshold, DueDay string
	AvailabilityPoints                                                string
	Note                                                              string
}

// SaveUsageSettings records a new version of the settings, in force for the
// verifications from now on; earlier results keep the settings they used.
func SaveUsageSettings(ctx context.Context, db *gorm.DB, in UsageSettingsInput, by *User, now time.Time) (FieldErrors, error) {
	if by == nil || !by.Role.IsMinistry() {
		return nil, fmt.Errorf("store: save usage settings: %w", ErrForbidden)
	}
	errs := FieldErrors{}
	num := func(field, s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			errs.Add(field, "usage.settings.error.range")
		}
		return v
	}
	t := UsageTolerances{GPUHoursPct: num("gpu_hours_pct", in.GPUHoursPct), MeanUtilPoints: num("mean_util_points", in.MeanUtilPoints),
		EnergyPct: num("energy_pct", in.EnergyPct), CoverageThreshold: num("coverage_threshold", in.CoverageThreshold),
		AvailabilityPoints: num("availability_points", in.AvailabilityPoints)}
	for f, m := range t.Validate() {
		errs.Add(f, m)
	}
	day, err := strconv.Atoi(strings.TrimSpace(in.DueDay))
	if err != nil || day < 1 || day > 28 {
		errs.Add("due_day", "usage.settings.error.due_day")
	}
	note := strings.TrimSpace(in.Note)
	if note == "" {
		errs.Add("note", "form.required")
	}
	errs.CheckText("note", note, MaxReportText, MultiLine)
	if errs.Any() {
		return errs, fmt.Errorf("store: save usage settings: %w", ErrInvalid)
	}
	s := UsageSettings{GPUHoursPct: t.GPUHoursPct, MeanUtilPoints: t.MeanUtilPoints, EnergyPct: t.EnergyPct,
		CoverageThreshold: t.CoverageThreshold, AvailabilityPoints: t.AvailabilityPoints, DueDay: day, Note: note, SetByID: by.ID, SetAt: now.UTC()}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&s).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("GPU-hours ±%g %%, utilisation ±%g points, energy ±%g %%, coverage ≥ %g %%, availability ±%g points, due day %d: %s",
			s.GPUHoursPct, s.MeanUtilPoints, s.EnergyPct, s.CoverageThreshold, s.AvailabilityPoints, s.DueDay, note)
		return RecordAudit(ctx, tx, ActorOf(by), "usage.settings", "usage_settings", fmt.Sprint(s.ID), summary, now)
	})
	if err != nil {
		return nil, fmt.Errorf("store: save usage settings: %w", err)
	}
	return nil, nil
}
