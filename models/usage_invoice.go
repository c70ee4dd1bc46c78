package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// A provider's invoice line bills the ministry for one allocation's month:
// the GPU-hours billed and the availability claimed. An officer enters it
// (or imports a CSV file of them); the portal verifies it against the
// telemetry and the downtime windows (VerifyInvoice, the reports' rule) and
// an auditor signs it off or returns it with a note.

// The actions on an invoice line (its history rows and audit actions).
const (
	InvoiceActionEnter   = "enter"
	InvoiceActionReturn  = "return"
	InvoiceActionSignOff = "sign_off"
	InvoiceActionVerify  = "verify"
)

// InvoiceActions lists the actions, for messages.
var InvoiceActions = []string{InvoiceActionEnter, InvoiceActionReturn, InvoiceActionSignOff, InvoiceActionVerify}

// invoiceTransitions are the states each action may start from, and where
// it leads ("" keeps the state). A line is entered submitted; a returned
// one is entered again, corrected.
var invoiceTransitions = map[string]struct {
	from []string
	to   string
}{
	InvoiceActionEnter:   {[]string{"", ReportReturned}, ReportSubmitted},
	InvoiceActionReturn:  {[]string{ReportSubmitted}, ReportReturned},
	InvoiceActionSignOff: {[]string{ReportSubmitted}, ReportSignedOff},
	InvoiceActionVerify:  {[]string{ReportSubmitted}, ""},
}

// InvoiceNext is the state action leads to from state, or ErrInvalidTransition.
func InvoiceNext(state, action string) (string, error) {
	tr, ok := invoiceTransitions[action]
	if ok && slices.Contains(tr.from, state) {
		if tr.to == "" {
			return state, nil
		}
		return tr.to, nil
	}
	return "", fmt.Errorf("invoice line %s from %q: %w", action, state, ErrInvalidTransition)
}

// InvoiceLine is a provider's bill for one allocation's month.
type InvoiceLine struct {
	ID             uint          `gorm:"primaryKey"`
	AllocationID   uint          `gorm:"not null;uniqueIndex:idx_invoice_line_month"`
	Allocation     *Allocation   `gorm:"constraint:OnDelete:RESTRICT"`
	OrganisationID uint          `gorm:"not null;index"` // the allocation's team
	Organisation   *Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	Provider       string        `gorm:"size:120;not null"`                                        // the cluster's provider
	Month          string        `gorm:"size:7;not null;uniqueIndex:idx_invoice_line_month;index"` // 2006-01, KST
	Reference      string        `gorm:"size:120;not null"`                                        // the provider's invoice number (optional)
	BilledHours    float64       `gorm:"not null"`
	Availability   float64       `gorm:"not null"` // percent of the allocated time
	State          string        `gorm:"size:16;not null;index"`
	Outcome        string        `gorm:"size:16;not null;default:'';index"` // the latest verification's
	ReturnNote     string        `gorm:"type:text;not null;default:''"`
	EnteredByID    uint          `gorm:"not null"`
	SubmittedAt    time.Time     `gorm:"not null"` // the latest entry
	SignedOffByID  *uint
	SignedOffAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// LineMonth is the line's month.
func (l *InvoiceLine) LineMonth() Month {
	m, _ := ParseMonth(l.Month)
	return m
}

// InvoiceLineEvent is one row of a line's history.
type InvoiceLineEvent struct {
	ID           uint      `gorm:"primaryKey"`
	InvoiceID    uint      `gorm:"not null;index"`
	Action       string    `gorm:"size:16;not null"`
	FromState    string    `gorm:"size:16;not null"`
	ToState      string    `gorm:"size:16;not null"`
	ActorID      uint      `gorm:"not null"`
	Actor        string    `gorm:"size:255;not null"`
	Note         string    `gorm:"type:text;not null"`
	BilledHours  float64   `gorm:"not null"`
	Availability float64   `gorm:"not null"`
	At           time.Time `gorm:"not null"`
}

// invoiceTables are the invoice lines' tables.
var invoiceTables = []string{"invoice_lines", "invoice_line_events"}

// InvoiceInput is one line as an officer types it, or as a CSV row gives it.
type InvoiceInput struct {
	AllocationID, Month, BilledHours, Availability, Reference string
}

// The invoice's CSV columns, in the order the template gives them.
const (
	InvoiceColAllocation   = "allocation_id"
	InvoiceColMonth        = "month"
	InvoiceColBilled       = "billed_gpu_hours"
	InvoiceColAvailability = "availability_pct"
	InvoiceColReference    = "reference"
)

// InvoiceColumns are the CSV file's columns; reference is optional.
var InvoiceColumns = []string{InvoiceColAllocation, InvoiceColMonth, InvoiceColBilled, InvoiceColAvailability, InvoiceColReference}

// Limits of an invoice file.
const (
	MaxInvoiceFileBytes = 1 << 20
	MaxInvoiceRows      = 5000
	MaxInvoiceReference = 120
)

// mayInvoice reports whether the user enters invoices: the ministry.
func mayInvoice(u *User) bool { return u != nil && u.Role.IsMinistry() }

// MaySeeInvoices reports whether the user sees invoice lines: the ministry
// and auditors, not the teams.
func MaySeeInvoices(u *User) bool {
	own, ok := u.OrganisationScope()
	return ok && own == nil
}

// checkInvoice checks one line (a form's or a CSV row's) against the store:
// the allocation exists and covers the month, the month is over, the
// figures are numbers in range, and no line for the allocation's month is
// waiting or signed off. The fields are named as the CSV columns.
func checkInvoice(ctx context.Context, tx *gorm.DB, in InvoiceInput, now time.Time) (*InvoiceLine, *InvoiceLine, FieldErrors, error) {
	errs := FieldErrors{}
	l := &InvoiceLine{}
	var a *Allocation
	if id, err := strconv.ParseUint(strings.TrimSpace(in.AllocationID), 10, 32); err != nil || id == 0 {
		errs.Add(InvoiceColAllocation, "invoice.error.allocation")
	} else if got, err := GetAllocation(ctx, tx, uint(id)); errors.Is(err, ErrNotFound) {
		errs.Add(InvoiceColAllocation, "invoice.error.allocation")
	} else if err != nil {
		return nil, nil, nil, err
	} else {
		a = got
	}
	m, err := ParseMonth(strings.TrimSpace(in.Month))
	switch {
	case err != nil:
		errs.Add(InvoiceColMonth, "invoice.error.month")
	case !DateOf(now).After(m.Last()):
		errs.Add(InvoiceColMonth, "invoice.error.month_open")
	case a != nil:
		from, to := a.Period()
		if to.Before(m.First) || from.After(m.Last()) {
			errs.Add(InvoiceColMonth, "invoice.error.outside")
		}
	}
	if v, ok := parseFigure(in.BilledHours); !ok {
		errs.Add(InvoiceColBilled, "usage.error.number")
	} else {
		l.BilledHours = v
	}
	if v, ok := parseFigure(in.Availability); !ok || v > 100 {
		errs.Add(InvoiceColAvailability, "usage.error.percent")
	} else {
		l.Availability = v
	}
	l.Reference = strings.TrimSpace(in.Reference)
	errs.CheckText(InvoiceColReference, l.Reference, MaxInvoiceReference, SingleLine)
	if errs.Any() {
		return l, nil, errs, nil
	}
	l.AllocationID, l.OrganisationID, l.Month = a.ID, a.OrganisationID, m.String()
	if a.Cluster != nil {
		l.Provider = a.Cluster.Provider
	}
	var prior InvoiceLine
	err = tx.WithContext(ctx).Where("allocation_id = ? AND month = ?", a.ID, l.Month).Take(&prior).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return l, nil, errs, nil
	case err != nil:
		return nil, nil, nil, err
	case prior.State != ReportReturned:
		errs.Add(InvoiceColAllocation, "invoice.error.exists")
	}
	return l, &prior, errs, nil
}

// enterInvoice stores a checked line in tx (a new one, or the correction
// of a returned one), with its history row, its audit row and its first
// verification.
func enterInvoice(ctx context.Context, tx *gorm.DB, l, prior *InvoiceLine, by *User, now time.Time) error {
	l.EnteredByID, l.SubmittedAt = by.ID, now.UTC()
	if prior != nil {
		l.ID, l.State, l.CreatedAt = prior.ID, prior.State, prior.CreatedAt
	} else if err := tx.Omit(clause.Associations).Create(l).Error; err != nil {
		return err
	}
	if err := moveInvoice(ctx, tx, l, InvoiceActionEnter, "", by, now); err != nil {
		return err
	}
	_, err := verifyInvoice(ctx, tx, l, InvoiceActionEnter, by, now)
	return err
}

// EnterInvoiceLine records one invoice line as the officer typed it and
// verifies it; a returned line for the same allocation and month is
// replaced by the correction.
func EnterInvoiceLine(ctx context.Context, db *gorm.DB, in InvoiceInput, by *User, now time.Time) (*InvoiceLine, FieldErrors, error) {
	if !mayInvoice(by) {
		return nil, nil, fmt.Errorf("store: enter invoice line: %w", ErrForbidden)
	}
	var out *InvoiceLine
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, prior, fe, err := checkInvoice(ctx, tx, in, now)
		if err != nil {
			return err
		}
		if fe.Any() {
			errs = fe
			return ErrInvalid
		}
		out = l
		return enterInvoice(ctx, tx, l, prior, by, now)
	})
	if err != nil {
		return nil, errs, fmt.Errorf("store: enter invoice line: %w", err)
	}
	return out, nil, nil
}

// InvoiceRowError is one fault of an invoice file: the row (1 is the
// header), the column ("" for the row as a whole) and the message.
type InvoiceRowError struct {
	Row       int
	Column    string
	MessageID string
}

// InvoiceFileError is an invoice file refused: every fault found.
type InvoiceFileError struct{ Errors []InvoiceRowError }

func (e *InvoiceFileError) Error() string {
	return fmt.Sprintf("invoice file: %d faults, the first at row %d", len(e.Errors), e.Errors[0].Row)
}

func (e *InvoiceFileError) Unwrap() error { return ErrInvalid }

// parseInvoiceFile reads the CSV file's rows (header first, the columns
// in any order, reference optional).
func parseInvoiceFile(data []byte) ([]InvoiceInput, []InvoiceRowError) {
	fault := func(row int, col, msg string) []InvoiceRowError { return []InvoiceRowError{{row, col, msg}} }
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fault(0, "", "invoice.import.empty")
	}
	if len(data) > MaxInvoiceFileBytes {
		return nil, fault(0, "", "invoice.import.too_large")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, fault(0, "", "invoice.import.encoding")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fault(1, "", "invoice.import.unreadable")
	}
	index := map[string]int{}
	for i, h := range header {
		index[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var faults []InvoiceRowError
	for _, col := range InvoiceColumns[:4] {
		if _, ok := index[col]; !ok {
			faults = append(faults, InvoiceRowError{1, col, "invoice.import.missing_column"})
		}
	}
	if faults != nil {
		return nil, faults
	}
	cell := func(rec []string, col string) string {
		if i, ok := index[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []InvoiceInput
	for row := 2; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fault(row, "", "invoice.import.unreadable")
		}
		if len(rows) == MaxInvoiceRows {
			return nil, fault(row, "", "invoice.import.too_many")
		}
		rows = append(rows, InvoiceInput{AllocationID: cell(rec, InvoiceColAllocation), Month: cell(rec, InvoiceColMonth),
			BilledHours: cell(rec, InvoiceColBilled), Availability: cell(rec, InvoiceColAvailability), Reference: cell(rec, InvoiceColReference)})
	}
	if len(rows) == 0 {
		return nil, fault(0, "", "invoice.import.empty")
	}
	return rows, nil
}

// ImportInvoiceLines records the lines of a CSV file and verifies each.
// The whole file is checked first: when any row is at fault, nothing is
// recorded and every fault is returned (an *InvoiceFileError), by row and
// column.
func ImportInvoiceLines(ctx context.Context, db *gorm.DB, filename string, data []byte, by *User, now time.Time) ([]InvoiceLine, error) {
	if !mayInvoice(by) {
		return nil, fmt.Errorf("store: import invoice lines: %w", ErrForbidden)
	}
	rows, faults := parseInvoiceFile(data)
	if faults != nil {
		return nil, fmt.Errorf("store: import invoice lines: %w", &InvoiceFileError{faults})
	}
	var out []InvoiceLine
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		type checked struct{ line, prior *InvoiceLine }
		var ok []checked
		seen := map[string]bool{}
		for i, in := range rows {
			row := i + 2
			l, prior, fe, err := checkInvoice(ctx, tx, in, now)
			if err != nil {
				return err
			}
			for _, col := range InvoiceColumns {
				if msg, bad := fe[col]; bad {
					faults = append(faults, InvoiceRowError{row, col, msg})
				}
			}
			if fe.Any() {
				continue
			}
			key := fmt.Sprintf("%d/%s", l.AllocationID, l.Month)
			if seen[key] {
				faults = append(faults, InvoiceRowError{row, InvoiceColAllocation, "invoice.import.duplicate"})
				continue
			}
			seen[key] = true
			ok = append(ok, checked{l, prior})
		}
		if faults != nil {
			return &InvoiceFileError{faults}
		}
		for _, c := range ok {
			if err := enterInvoice(ctx, tx, c.line, c.prior, by, now); err != nil {
				return err
			}
			out = append(out, *c.line)
		}
		// The file is named by its content's hash: a file name may be
		// longer than an object's name can be.
		sum := sha256.Sum256(data)
		name := []rune(filename)
		if len(name) > 120 {
			name = append(name[:120], '…')
		}
		return RecordAudit(ctx, tx, ActorOf(by), "invoice.import", "invoice_file", hex.EncodeToString(sum[:8]),
			fmt.Sprintf("%q: %d lines, SHA-256 %x", string(name), len(ok), sum), now)
	})
	if err != nil {
		return nil, fmt.Errorf("store: import invoice lines: %w", err)
	}
	return out, nil
}

// moveInvoice applies an action to a line in tx: the state, a history row
// and an audit row.
func moveInvoice(ctx context.Context, tx *gorm.DB, l *InvoiceLine, action, note string, by *User, now time.Time) error {
	from := l.State
	to, err := InvoiceNext(from, action)
	if err != nil {
		return err
	}
	l.State = to
	res := tx.Model(&InvoiceLine{ID: l.ID}).Select("*").Omit("id", "created_at", clause.Associations).
		Where("state = ?", from).Updates(l)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("invoice line %d is no longer %q: %w", l.ID, from, ErrConflict)
	}
	e := InvoiceLineEvent{InvoiceID: l.ID, Action: action, FromState: from, ToState: to, ActorID: by.ID,
		Actor: ActorOf(by).Label, Note: note, BilledHours: l.BilledHours, Availability: l.Availability, At: now.UTC()}
	if err := tx.Create(&e).Error; err != nil {
		return err
	}
	summary := fmt.Sprintf("%s, allocation %d, %s: %s → %s; %.1f GPU-hours billed, %.1f %% available",
		l.Provider, l.AllocationID, l.Month, from, to, l.BilledHours, l.Availability)
	if note != "" {
		summary += ": " + note
	}
	return RecordAudit(ctx, tx, ActorOf(by), "invoice."+action, "invoice_line", fmt.Sprint(l.ID), summary, now)
}

// verifyInvoice adds a verification of l, with the settings in force and
// the telemetry and downtime windows as they stand, and keeps its outcome
// on the line.
func verifyInvoice(ctx context.Context, tx *gorm.DB, l *InvoiceLine, trigger string, by *User, now time.Time) (*VerificationResult, error) {
	s, err := CurrentUsageSettings(ctx, tx)
	if err != nil {
		return nil, err
	}
	m := l.LineMonth()
	u, err := AllocationUsage(ctx, tx, l.AllocationID, m.First.Start(), m.Next().First.Start(), now)
	if err != nil {
		return nil, err
	}
	claim := InvoiceClaim{BilledHours: l.BilledHours, Availability: l.Availability}
	measured := MeasuredUsage(u)
	t := s.Tolerances()
	verdict := VerifyInvoice(claim, measured, t)
	avail := claim.Availability
	v := newVerificationResult(verdict, measured, s, trigger, by, now)
	v.InvoiceID, v.ClaimGPUHours, v.ClaimAvailability = l.ID, claim.BilledHours, &avail
	if err := tx.Create(&v).Error; err != nil {
		return nil, err
	}
	if err := tx.Model(&InvoiceLine{ID: l.ID}).Update("outcome", v.Outcome).Error; err != nil {
		return nil, err
	}
	l.Outcome = v.Outcome
	summary := fmt.Sprintf("%s, allocation %d, %s: %s, coverage %.1f %%, billed %.1f, expected %.1f GPU-hours",
		l.Provider, l.AllocationID, l.Month, v.Outcome, verdict.Coverage, claim.BilledHours, measured.ExpectedHours)
	if err := RecordAudit(ctx, tx, ActorOf(by), "invoice.verify", "invoice_line", fmt.Sprint(l.ID), summary, now); err != nil {
		return nil, err
	}
	return &v, nil
}

// newVerificationResult is a result row of a verdict: the settings, the
// telemetry and the first figure outside its range; the caller sets the
// subject and the claim.
func newVerificationResult(verdict UsageVerdict, measured UsageMeasured, s UsageSettings, trigger string, by *User, now time.Time) VerificationResult {
	t := s.Tolerances()
	v := VerificationResult{At: now.UTC(), Trigger: trigger, ByID: by.ID, Outcome: verdict.Outcome,
		SettingsID: s.ID, GPUHoursPct: t.GPUHoursPct, MeanUtilPoints: t.MeanUtilPoints, EnergyPct: t.EnergyPct,
		CoverageThreshold: t.CoverageThreshold, AvailabilityPoints: &t.AvailabilityPoints,
		AllocatedHours: measured.AllocatedHours, ExpectedHours: measured.ExpectedHours, ObservedHours: measured.ObservedHours,
		BusyHours: measured.BusyHours, UnobservedHours: measured.UnobservedHours, DownHours: measured.DownHours,
		MeanUtil: measured.MeanUtil, EnergyKWh: measured.EnergyKWh, XIDEvents: measured.XIDEvents,
		EnergyAnomalies: measured.EnergyAnomalies}
	if f := verdict.Failed(); f != nil {
		v.Figure, v.Difference, v.Direction = f.Figure, f.Difference, f.Direction
	}
	return v
}

// GetInvoiceLine loads a line with its allocation and team, for the
// ministry and auditors.
func GetInvoiceLine(ctx context.Context, db *gorm.DB, id uint, by *User) (*InvoiceLine, error) {
	if !MaySeeInvoices(by) {
		return nil, fmt.Errorf("store: invoice line %d: %w", id, ErrForbidden)
	}
	var l InvoiceLine
	if err := db.WithContext(ctx).Preload("Organisation").Preload("Allocation.Cluster").Take(&l, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: invoice line %d", id), err)
	}
	return &l, nil
}

// InvoiceHistory is a line's history rows and verifications, oldest first.
func InvoiceHistory(ctx context.Context, db *gorm.DB, id uint) ([]InvoiceLineEvent, []VerificationResult, error) {
	var es []InvoiceLineEvent
	var vs []VerificationResult
	db = db.WithContext(ctx)
	if err := db.Where("invoice_id = ?", id).Order("id").Find(&es).Error; err != nil {
		return nil, nil, fmt.Errorf("store: history of invoice line %d: %w", id, err)
	}
	if err := db.Where("invoice_id = ?", id).Order("id").Find(&vs).Error; err != nil {
		return nil, nil, fmt.Errorf("store: verifications of invoice line %d: %w", id, err)
	}
	return es, vs, nil
}

// VerifyInvoiceLineAgain verifies a waiting line again, with the settings
// and the telemetry as they stand now: a new result, the earlier ones kept.
func VerifyInvoiceLineAgain(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) (*VerificationResult, error) {
	var v *VerificationResult
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, err := GetInvoiceLine(ctx, tx, id, by)
		if err != nil {
			return err
		}
		if _, err := InvoiceNext(l.State, InvoiceActionVerify); err != nil {
			return err
		}
		v, err = verifyInvoice(ctx, tx, l, InvoiceActionVerify, by, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: verify invoice line %d: %w", id, err)
	}
	return v, nil
}

// ReturnInvoiceLine sends a waiting line back to the ministry with the
// auditor's note; an officer enters it again, corrected.
func ReturnInvoiceLine(ctx context.Context, db *gorm.DB, id uint, note string, by *User, now time.Time) (FieldErrors, error) {
	note = strings.TrimSpace(note)
	errs := FieldErrors{}
	if note == "" {
		errs.Add("note", "form.required")
	}
	errs.CheckText("note", note, MaxReportText, MultiLine)
	if errs.Any() {
		return errs, fmt.Errorf("store: return invoice line %d: %w", id, ErrInvalid)
	}
	return nil, auditInvoice(ctx, db, id, InvoiceActionReturn, note, by, now)
}

// SignOffInvoiceLine signs a waiting line off.
func SignOffInvoiceLine(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) error {
	return auditInvoice(ctx, db, id, InvoiceActionSignOff, "", by, now)
}

// auditInvoice is the auditor's action on a waiting line.
func auditInvoice(ctx context.Context, db *gorm.DB, id uint, action, note string, by *User, now time.Time) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !mayAudit(by) {
			return ErrForbidden
		}
		l, err := GetInvoiceLine(ctx, tx, id, by)
		if err != nil {
			return err
		}
		l.Allocation, l.Organisation = nil, nil
		switch action {
		case InvoiceActionReturn:
			l.ReturnNote = note
		case InvoiceActionSignOff:
			if l.Outcome == "" {
				return fmt.Errorf("invoice line %d has no verification: %w", id, ErrInvalidTransition)
			}
			at := now.UTC()
			l.SignedOffByID, l.SignedOffAt = &by.ID, &at
		}
		return moveInvoice(ctx, tx, l, action, note, by, now)
	})
	if err != nil {
		return fmt.Errorf("store: %s invoice line %d: %w", action, id, err)
	}
	return nil
}

// maxInvoiceList bounds the officers' list of lines.
const maxInvoiceList = 200

// ListInvoiceLines lists the lines of a month ("" for every month), the
// latest entered first, with each one's latest verification.
func ListInvoiceLines(ctx context.Context, db *gorm.DB, month string, by *User) ([]InvoiceQueueRow, error) {
	if !MaySeeInvoices(by) {
		return nil, fmt.Errorf("store: invoice lines: %w", ErrForbidden)
	}
	db = db.WithContext(ctx)
	q := db.Preload("Organisation")
	if month != "" {
		q = q.Where("month = ?", month)
	}
	var ls []InvoiceLine
	if err := q.Order("submitted_at DESC, id DESC").Limit(maxInvoiceList).Find(&ls).Error; err != nil {
		return nil, fmt.Errorf("store: invoice lines: %w", err)
	}
	return invoiceRows(db, ls)
}

// InvoiceQueueRow is a line with its latest verification.
type InvoiceQueueRow struct {
	Line   *InvoiceLine
	Latest *VerificationResult
}

// invoiceRows pairs each line with its latest verification.
func invoiceRows(db *gorm.DB, ls []InvoiceLine) ([]InvoiceQueueRow, error) {
	out := make([]InvoiceQueueRow, len(ls))
	if len(ls) == 0 {
		return out, nil
	}
	ids := make([]uint, len(ls))
	for i := range ls {
		ids[i] = ls[i].ID
	}
	var vs []VerificationResult
	err := db.Where("id IN (?)", db.Model(&VerificationResult{}).Select("MAX(id)").Where("invoice_id IN ?", ids).Group("invoice_id")).
		Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("store: latest invoice verifications: %w", err)
	}
	latest := map[uint]*VerificationResult{}
	for i := range vs {
		latest[vs[i].InvoiceID] = &vs[i]
	}
	for i := range ls {
		out[i] = InvoiceQueueRow{Line: &ls[i], Latest: latest[ls[i].ID]}
	}
	return out, nil
}
