package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// mayReport reports whether the user reports for the allocation's team.
func mayReport(u *User, a *Allocation) bool {
	return u != nil && u.Role == RoleCompany && u.OrganisationID != nil && *u.OrganisationID == a.OrganisationID
}

// mayAudit reports whether the user signs reports off or returns them.
func mayAudit(u *User) bool { return u != nil && u.Role == RoleAuditor }

// MayAudit is mayAudit for the pages: whether to show the auditor's actions.
func MayAudit(u *User) bool { return mayAudit(u) }

// MayVerify reports whether the user may run a verification again: an
// auditor, the ministry, or the report's team.
func MayVerify(u *User, r *UsageReport) bool {
	return u != nil && (u.Role == RoleAuditor || u.Role.IsMinistry() ||
		u.Role == RoleCompany && u.OrganisationID != nil && *u.OrganisationID == r.OrganisationID)
}

// MayReport is mayReport for the pages: whether to show the team's form.
func MayReport(u *User, r *UsageReport) bool {
	return u != nil && u.Role == RoleCompany && u.OrganisationID != nil && *u.OrganisationID == r.OrganisationID
}

// monthOfAllocation loads the allocation if the user may see it and its
// period meets the month.
func monthOfAllocation(ctx context.Context, db *gorm.DB, allocID uint, m Month, by *User) (*Allocation, error) {
	a, err := GetAllocation(ctx, db, allocID)
	if err != nil {
		return nil, err
	}
	if !a.MaySee(by) {
		return nil, fmt.Errorf("store: allocation %d: %w", allocID, ErrNotFound)
	}
	from, to := a.Period()
	if to.Before(m.First) || from.After(m.Last()) {
		return nil, fmt.Errorf("store: allocation %d in %s: %w", allocID, m, ErrNotFound)
	}
	return a, nil
}

// AllocationReport is the report of an allocation for a month, or a blank
// one (ID 0, state "") when none is saved yet; ErrNotFound when the user may
// not see the allocation or its period misses the month.
func AllocationReport(ctx context.Context, db *gorm.DB, allocID uint, m Month, by *User) (*UsageReport, error) {
	a, err := monthOfAllocation(ctx, db, allocID, m, by)
	if err != nil {
		return nil, err
	}
	var r UsageReport
	err = db.WithContext(ctx).Where("allocation_id = ? AND month = ?", allocID, m.String()).Take(&r).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		r = UsageReport{AllocationID: a.ID, OrganisationID: a.OrganisationID, Month: m.String()}
	case err != nil:
		return nil, fmt.Errorf("store: report of allocation %d for %s: %w", allocID, m, err)
	}
	r.Allocation, r.Organisation = a, a.Organisation
	return &r, nil
}

// GetUsageReport loads a report with its allocation, if the user may see it.
func GetUsageReport(ctx context.Context, db *gorm.DB, id uint, by *User) (*UsageReport, error) {
	var r UsageReport
	if err := db.WithContext(ctx).Preload("Organisation").Preload("Allocation.Cluster").Take(&r, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: report %d", id), err)
	}
	if !by.MaySeeOrganisation(r.OrganisationID) {
		return nil, fmt.Errorf("store: report %d: %w", id, ErrNotFound)
	}
	return &r, nil
}

// ReportHistory is a report's history rows and verifications, oldest first.
func ReportHistory(ctx context.Context, db *gorm.DB, id uint) ([]UsageReportEvent, []VerificationResult, error) {
	var es []UsageReportEvent
	var vs []VerificationResult
	db = db.WithContext(ctx)
	if err := db.Where("report_id = ?", id).Order("id").Find(&es).Error; err != nil {
		return nil, nil, fmt.Errorf("store: history of report %d: %w", id, err)
	}
	if err := db.Where("report_id = ?", id).Order("id").Find(&vs).Error; err != nil {
		return nil, nil, fmt.Errorf("store: verifications of report %d: %w", id, err)
	}
	return es, vs, nil
}

// moveReport applies an action to a report in tx: the state, a history
// row and an audit row.
func moveReport(ctx context.Context, tx *gorm.DB, r *UsageReport, action, note string, by *User, now time.Time) error {
	from := r.State
	to, err := ReportNext(from, action)
	if err != nil {
		return err
	}
	r.State = to
	// Only from the state read: of two steps at once, the second finds it changed.
	res := tx.Model(&UsageReport{ID: r.ID}).Select("*").Omit("id", "created_at", clause.Associations).
		Where("state = ?", from).Updates(r)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("report %d is no longer %q: %w", r.ID, from, ErrConflict)
	}
	e := UsageReportEvent{ReportID: r.ID, Action: action, FromState: from, ToState: to, ActorID: by.ID,
		Actor: ActorOf(by).Label, Note: note, GPUHours: r.GPUHours, MeanUtil: r.MeanUtil, EnergyKWh: r.EnergyKWh, At: now.UTC()}
	if err := tx.Create(&e).Error; err != nil {
		return err
	}
	summary := fmt.Sprintf("allocation %d, %s: %s → %s; %.1f GPU-hours, %.1f %%", r.AllocationID, r.Month, from, to, r.GPUHours, r.MeanUtil)
	if note != "" {
		summary += ": " + note
	}
	return RecordAudit(ctx, tx, ActorOf(by), "usage_report."+action, "usage_report", fmt.Sprint(r.ID), summary, now)
}

// editReport loads (or starts) the report for the team's form, locked for
// the change, and applies the input.
func editReport(ctx context.Context, tx *gorm.DB, allocID uint, m Month, in ReportInput, by *User) (*UsageReport, FieldErrors, error) {
	r, err := AllocationReport(ctx, tx, allocID, m, by)
	if err != nil {
		return nil, nil, err
	}
	if !mayReport(by, r.Allocation) {
		return nil, nil, ErrForbidden
	}
	if !r.Editable() {
		return nil, nil, fmt.Errorf("report of allocation %d for %s is %s: %w", allocID, m, r.State, ErrInvalidTransition)
	}
	errs := in.apply(r)
	if errs.Any() {
		return r, errs, ErrInvalid
	}
	return r, nil, nil
}

// SaveUsageReport saves the team's draft (or its revision of a returned
// report) without submitting it.
func SaveUsageReport(ctx context.Context, db *gorm.DB, allocID uint, m Month, in ReportInput, by *User, now time.Time) (*UsageReport, FieldErrors, error) {
	var out *UsageReport
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, fe, err := editReport(ctx, tx, allocID, m, in, by)
		out, errs = r, fe
		if err != nil {
			return err
		}
		if r.ID == 0 {
			if err := setDueDate(ctx, tx, r, now); err != nil {
				return err
			}
			// Created unstarted; the save below makes it a draft.
			if err := tx.Omit(clause.Associations).Create(r).Error; err != nil {
				return err
			}
		}
		return moveReport(ctx, tx, r, ReportActionSave, "", by, now)
	})
	if err != nil {
		return out, errs, fmt.Errorf("store: save report: %w", err)
	}
	return out, nil, nil
}

// setDueDate sets a new report's due date from the settings in force.
func setDueDate(ctx context.Context, tx *gorm.DB, r *UsageReport, now time.Time) error {
	s, err := CurrentUsageSettings(ctx, tx)
	if err != nil {
		return err
	}
	recs, err := LoadHolidayRecords(ctx, tx)
	if err != nil {
		return err
	}
	due, err := ReportDueDate(r.ReportMonth(), s.DueDay, recs.At(now))
	if err != nil {
		return err
	}
	r.DueDate = due.String()
	return nil
}

// SubmitUsageReport saves and submits the team's report and verifies it.
// A report first submitted after its due date is marked late, not
// refused; a month is reported once it is over.
func SubmitUsageReport(ctx context.Context, db *gorm.DB, allocID uint, m Month, in ReportInput, by *User, now time.Time) (*UsageReport, FieldErrors, error) {
	var out *UsageReport
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, fe, err := editReport(ctx, tx, allocID, m, in, by)
		out, errs = r, fe
		if err != nil {
			return err
		}
		if !DateOf(now).After(m.Last()) {
			errs = FieldErrors{"gpu_hours": "usage.error.month_open"}
			return ErrInvalid
		}
		if r.ID == 0 {
			if err := setDueDate(ctx, tx, r, now); err != nil {
				return err
			}
			r.State = ReportDraft
			if err := tx.Omit(clause.Associations).Create(r).Error; err != nil {
				return err
			}
		}
		first := r.SubmittedAt == nil
		at := now.UTC()
		r.SubmittedAt, r.ReturnNote = &at, ""
		if first {
			due, err := ParseDate(r.DueDate)
			if err != nil {
				return err
			}
			r.Late = !now.Before(ReportDeadline(due))
		}
		if err := moveReport(ctx, tx, r, ReportActionSubmit, "", by, now); err != nil {
			return err
		}
		_, err = verifyReport(ctx, tx, r, ReportActionSubmit, by, now)
		return err
	})
	if err != nil {
		return out, errs, fmt.Errorf("store: submit report: %w", err)
	}
	return out, nil, nil
}

// verifyReport adds a verification of r, with the settings in force and
// the telemetry as it stands, and keeps its outcome on the report.
func verifyReport(ctx context.Context, tx *gorm.DB, r *UsageReport, trigger string, by *User, now time.Time) (*VerificationResult, error) {
	s, err := CurrentUsageSettings(ctx, tx)
	if err != nil {
		return nil, err
	}
	m := r.ReportMonth()
	u, err := AllocationUsage(ctx, tx, r.AllocationID, m.First.Start(), m.Next().First.Start(), now)
	if err != nil {
		return nil, err
	}
	claim := UsageClaim{GPUHours: r.GPUHours, MeanUtil: r.MeanUtil, EnergyKWh: r.EnergyKWh}
	measured := MeasuredUsage(u)
	verdict := VerifyUsage(claim, measured, s.Tolerances())
	v := newVerificationResult(verdict, measured, s, trigger, by, now)
	v.ReportID, v.ClaimGPUHours, v.ClaimMeanUtil, v.ClaimEnergyKWh = r.ID, claim.GPUHours, claim.MeanUtil, claim.EnergyKWh
	if err := tx.Create(&v).Error; err != nil {
		return nil, err
	}
	if err := tx.Model(r).Update("outcome", v.Outcome).Error; err != nil {
		return nil, err
	}
	r.Outcome = v.Outcome
	if err := notifyVerification(ctx, tx, r, v.Outcome, now); err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("allocation %d, %s: %s, coverage %.1f %%, claimed %.1f, busy %.1f GPU-hours",
		r.AllocationID, r.Month, v.Outcome, verdict.Coverage, claim.GPUHours, measured.BusyHours)
	if err := RecordAudit(ctx, tx, ActorOf(by), "usage_report.verify", "usage_report", fmt.Sprint(r.ID), summary, now); err != nil {
		return nil, err
	}
	return &v, nil
}

// VerifyUsageReportAgain verifies a submitted report again, with the
// settings and the telemetry as they stand now: a new result, the earlier
// ones kept.
func VerifyUsageReportAgain(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) (*VerificationResult, error) {
	var v *VerificationResult
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := GetUsageReport(ctx, tx, id, by)
		if err != nil {
			return err
		}
		if !MayVerify(by, r) {
			return ErrForbidden
		}
		if _, err := ReportNext(r.State, ReportActionVerify); err != nil {
			return err
		}
		v, err = verifyReport(ctx, tx, r, ReportActionVerify, by, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: verify report %d: %w", id, err)
	}
	return v, nil
}

// ReturnUsageReport sends a submitted report back to the team with the
// auditor's note; the team revises and submits it again.
func ReturnUsageReport(ctx context.Context, db *gorm.DB, id uint, note string, by *User, now time.Time) (FieldErrors, error) {
	note = strings.TrimSpace(note)
	errs := FieldErrors{}
	if note == "" {
		errs.Add("note", "form.required")
	}
	errs.CheckText("note", note, MaxReportText, MultiLine)
	if errs.Any() {
		return errs, fmt.Errorf("store: return report %d: %w", id, ErrInvalid)
	}
	return nil, auditReport(ctx, db, id, ReportActionReturn, note, by, now)
}

// SignOffUsageReport signs a submitted report off.
func SignOffUsageReport(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) error {
	return auditReport(ctx, db, id, ReportActionSignOff, "", by, now)
}

// auditReport is the auditor's action on a submitted report.
func auditReport(ctx context.Context, db *gorm.DB, id uint, action, note string, by *User, now time.Time) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := GetUsageReport(ctx, tx, id, by)
		if err != nil {
			return err
		}
		if !mayAudit(by) {
			return ErrForbidden
		}
		r.Allocation, r.Organisation = nil, nil
		switch action {
		case ReportActionReturn:
			r.ReturnNote = note
		case ReportActionSignOff:
			if r.Outcome == "" {
				return fmt.Errorf("report %d has no verification: %w", id, ErrInvalidTransition)
			}
			at := now.UTC()
			r.SignedOffByID, r.SignedOffAt = &by.ID, &at
		}
		if err := moveReport(ctx, tx, r, action, note, by, now); err != nil {
			return err
		}
		return notifyAudited(ctx, tx, r, action, note, now)
	})
	if err != nil {
		return fmt.Errorf("store: %s report %d: %w", action, id, err)
	}
	return nil
}

// ReportMonthRow is one allocation-month on a team's page: what was
// allocated, reported and measured (at the latest verification), and the
// report's state.
type ReportMonthRow struct {
	Allocation     *Allocation
	Month          Month
	AllocatedHours float64
	Report         *UsageReport        // nil: none saved
	Latest         *VerificationResult // nil: not verified
	Due            string              // the due date (the report's own once saved)
}

// maxReportMonths bounds the months a team's list shows.
const maxReportMonths = 24

// TeamReportMonths lists the months of the team's allocations up to the
// current one (latest first), each with its report, if any.
func TeamReportMonths(ctx context.Context, db *gorm.DB, orgID uint, by *User, now time.Time) ([]ReportMonthRow, error) {
	if !by.MaySeeOrganisation(orgID) {
		return nil, fmt.Errorf("store: reports of organisation %d: %w", orgID, ErrNotFound)
	}
	db = db.WithContext(ctx)
	var as []Allocation
	if err := db.Where("organisation_id = ?", orgID).Order("id").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: allocations of organisation %d: %w", orgID, err)
	}
	var rs []UsageReport
	if err := db.Where("organisation_id = ?", orgID).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("store: reports of organisation %d: %w", orgID, err)
	}
	latest, err := latestVerifications(db, rs)
	if err != nil {
		return nil, err
	}
	s, err := CurrentUsageSettings(ctx, db)
	if err != nil {
		return nil, err
	}
	recs, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	cal := recs.At(now)
	byKey := map[string]*UsageReport{}
	for i := range rs {
		byKey[fmt.Sprintf("%d/%s", rs[i].AllocationID, rs[i].Month)] = &rs[i]
	}
	current := MonthOf(now)
	var out []ReportMonthRow
	for i := range as {
		a := &as[i]
		for _, m := range a.reportMonths(current) {
			start, end := a.clip(m.First.Start(), m.Next().First.Start())
			row := ReportMonthRow{Allocation: a, Month: m, AllocatedHours: float64(a.GPUCount) * end.Sub(start).Hours(),
				Report: byKey[fmt.Sprintf("%d/%s", a.ID, m)]}
			if row.Report != nil {
				row.Latest, row.Due = latest[row.Report.ID], row.Report.DueDate
			} else if due, err := ReportDueDate(m, s.DueDay, cal); err == nil {
				row.Due = due.String()
			}
			out = append(out, row)
		}
	}
	slices.SortStableFunc(out, func(x, y ReportMonthRow) int { return y.Month.First.Compare(x.Month.First) })
	return out, nil
}

// reportMonths are the months of the allocation's period up to current,
// latest first, at most maxReportMonths: those a report is asked for (once
// each is over).
func (a *Allocation) reportMonths(current Month) []Month {
	from, to := a.Period()
	last := current
	if MonthOf(to.Start()).First.Before(last.First) {
		last = MonthOf(to.Start())
	}
	var out []Month
	for m, n := last, 0; !m.First.Before(MonthOf(from.Start()).First) && n < maxReportMonths; m, n = prevMonth(m), n+1 {
		out = append(out, m)
	}
	return out
}

// prevMonth is the month before.
func prevMonth(m Month) Month { return Month{First: NewDate(m.First.Year, m.First.Month-1, 1)} }

// latestVerifications is the latest verification of each report.
func latestVerifications(db *gorm.DB, rs []UsageReport) (map[uint]*VerificationResult, error) {
	out := map[uint]*VerificationResult{}
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]uint, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	var vs []VerificationResult
	err := db.Where("id IN (?)", db.Model(&VerificationResult{}).Select("MAX(id)").Where("report_id IN ?", ids).Group("report_id")).
		Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("store: latest verifications: %w", err)
	}
	for i := range vs {
		out[vs[i].ReportID] = &vs[i]
	}
	return out, nil
}

// The kinds of the auditors' queue.
const (
	QueueReports  = "report"
	QueueInvoices = "invoice"
)

// QueueKinds lists the kinds, for filters and messages.
var QueueKinds = []string{QueueReports, QueueInvoices}

// ReportFilter narrows the auditor's queue.
type ReportFilter struct {
	Kind    string // "": reports and invoice lines
	OrgID   uint   // 0: every team
	Month   string // "": every month
	Outcome string // "": every outcome
	State   string // "": submitted
	Page    int    // 1-based; 0 is the first
}

// ReportQueueRow is a report or an invoice line in the auditor's queue,
// with its latest verification.
type ReportQueueRow struct {
	Report  *UsageReport // nil for an invoice line
	Invoice *InvoiceLine // nil for a report
	Latest  *VerificationResult
}

// SubmittedAt is when the row was (last) submitted or entered.
func (r ReportQueueRow) SubmittedAt() time.Time {
	if r.Invoice != nil {
		return r.Invoice.SubmittedAt
	}
	if r.Report.SubmittedAt != nil {
		return *r.Report.SubmittedAt
	}
	return time.Time{}
}

// QueuePageSize is how many rows a page of the auditors' queue shows.
const QueuePageSize = 50

// ReportQueuePage is a page of the auditors' queue and how many rows match
// the filter in all.
type ReportQueuePage struct {
	Rows  []ReportQueueRow
	Total int // rows matching the filter, every page
	Page  int // 1-based
}

// Pages is how many pages the matching rows fill (at least 1).
func (p ReportQueuePage) Pages() int { return max((p.Total+QueuePageSize-1)/QueuePageSize, 1) }

// ReportQueue is a page of the reports and invoice lines for the auditors,
// oldest submission first (a report before an invoice line entered at the
// same time), with how many match the filter.
func ReportQueue(ctx context.Context, db *gorm.DB, f ReportFilter, by *User) (ReportQueuePage, error) {
	own, ok := by.OrganisationScope()
	if !ok || own != nil {
		return ReportQueuePage{}, fmt.Errorf("store: report queue: %w", ErrForbidden)
	}
	state := f.State
	if state == "" {
		state = ReportSubmitted
	}
	page := ReportQueuePage{Page: max(f.Page, 1)}
	db = db.WithContext(ctx)
	filter := func(q *gorm.DB) *gorm.DB {
		q = q.Where("state = ?", state)
		if f.OrgID != 0 {
			q = q.Where("organisation_id = ?", f.OrgID)
		}
		if f.Month != "" {
			q = q.Where("month = ?", f.Month)
		}
		if f.Outcome != "" {
			q = q.Where("outcome = ?", f.Outcome)
		}
		return q
	}
	// The kinds in the queue, each as a subquery of its rows' kind, id
	// and submission time; the page is cut from their union.
	var parts []string
	var args []any
	for _, k := range []struct {
		kind  string
		model any
	}{{QueueReports, &UsageReport{}}, {QueueInvoices, &InvoiceLine{}}} {
		if f.Kind != "" && f.Kind != k.kind {
			continue
		}
		var n int64
		if err := filter(db.Model(k.model)).Count(&n).Error; err != nil {
			return page, fmt.Errorf("store: report queue: %w", err)
		}
		page.Total += int(n)
		parts = append(parts, "SELECT kind, id, submitted_at FROM (?) AS q"+k.kind)
		args = append(args, filter(db.Model(k.model)).Select("? AS kind, id, submitted_at", k.kind))
	}
	var keys []struct {
		Kind string
		ID   uint
	}
	args = append(args, QueuePageSize, (page.Page-1)*QueuePageSize)
	err := db.Raw(strings.Join(parts, " UNION ALL ")+" ORDER BY submitted_at, kind DESC, id LIMIT ? OFFSET ?", args...).
		Scan(&keys).Error
	if err != nil {
		return page, fmt.Errorf("store: report queue: %w", err)
	}
	var reportIDs, lineIDs []uint
	for _, k := range keys {
		if k.Kind == QueueReports {
			reportIDs = append(reportIDs, k.ID)
		} else {
			lineIDs = append(lineIDs, k.ID)
		}
	}
	reports := map[uint]ReportQueueRow{}
	if len(reportIDs) > 0 {
		var rs []UsageReport
		if err := db.Preload("Organisation").Where("id IN ?", reportIDs).Find(&rs).Error; err != nil {
			return page, fmt.Errorf("store: report queue: %w", err)
		}
		latest, err := latestVerifications(db, rs)
		if err != nil {
			return page, err
		}
		for i := range rs {
			reports[rs[i].ID] = ReportQueueRow{Report: &rs[i], Latest: latest[rs[i].ID]}
		}
	}
	lines := map[uint]ReportQueueRow{}
	if len(lineIDs) > 0 {
		var ls []InvoiceLine
		if err := db.Preload("Organisation").Where("id IN ?", lineIDs).Find(&ls).Error; err != nil {
			return page, fmt.Errorf("store: invoice queue: %w", err)
		}
		rows, err := invoiceRows(db, ls)
		if err != nil {
			return page, err
		}
		for _, r := range rows {
			lines[r.Line.ID] = ReportQueueRow{Invoice: r.Line, Latest: r.Latest}
		}
	}
	for _, k := range keys {
		r, ok := reports[k.ID]
		if k.Kind == QueueInvoices {
			r, ok = lines[k.ID]
		}
		if ok {
			page.Rows = append(page.Rows, r)
		}
	}
	return page, nil
}

// ReportDay is one KST day of a report's month: the claim spread evenly
// over the days of the allocation's period in the month, and the measured
// busy and observed GPU-hours.
type ReportDay struct {
	Day                      Date
	ClaimedHours             float64
	BusyHours, ObservedHours float64
}

// GPUGap is one of the allocation's GPUs whose telemetry misses part of
// the time it was expected.
type GPUGap struct {
	UUID, Node              string
	ExpectedHours, Observed float64
}

// MissingHours is the expected time without telemetry.
func (g GPUGap) MissingHours() float64 { return max(g.ExpectedHours-g.Observed, 0) }

// ReportTelemetry is what the result page shows beside the verification:
// the days, the GPUs with gaps and the workloads.
type ReportTelemetry struct {
	Days      []ReportDay
	Gaps      []GPUGap
	Workloads []WorkloadUsage
	// Unnamed is how many GPUs of the block are not identified yet: their
	// time is expected, and no telemetry can be matched to them.
	Unnamed int
}

// monthDays is an allocation's KST days in month m (those of its period):
// claimed spread evenly over them (a report or an invoice gives only the
// month's total), and the busy and observed GPU-hours of each day's
// rollups; observed is the observed GPU-hours of each GPU in the month.
func monthDays(ctx context.Context, db *gorm.DB, a *Allocation, orgID uint, m Month, claimed float64) ([]ReportDay, map[string]float64, error) {
	start, end := a.clip(m.First.Start(), m.Next().First.Start())
	rows, err := TeamMonthDays(ctx, db, orgID, m)
	if err != nil {
		return nil, nil, err
	}
	var days []ReportDay
	for d := DateOf(start); end.After(d.Start()); d = d.AddDays(1) {
		days = append(days, ReportDay{Day: d})
	}
	byDay := map[string]*ReportDay{}
	for i := range days {
		days[i].ClaimedHours = claimed / float64(len(days))
		byDay[days[i].Day.String()] = &days[i]
	}
	observed := map[string]float64{}
	for _, g := range rows {
		if g.AllocationID != a.ID {
			continue
		}
		observed[g.UUID] += g.ObservedS / 3600
		if d := byDay[g.Day]; d != nil {
			d.BusyHours += g.ActiveS / 3600
			d.ObservedHours += g.ObservedS / 3600
		}
	}
	return days, observed, nil
}

// InvoiceDaysOf is an invoice line's month per day: the GPU-hours billed
// spread evenly over the allocation's days in the month (a line bills the
// month's total), and the busy and observed GPU-hours the telemetry has now.
func InvoiceDaysOf(ctx context.Context, db *gorm.DB, l *InvoiceLine) ([]ReportDay, error) {
	a := l.Allocation
	if a == nil {
		a = &Allocation{}
		if err := db.WithContext(ctx).Take(a, l.AllocationID).Error; err != nil {
			return nil, notFound(fmt.Sprintf("store: allocation %d", l.AllocationID), err)
		}
	}
	days, _, err := monthDays(ctx, db, a, l.OrganisationID, l.LineMonth(), l.BilledHours)
	if err != nil {
		return nil, fmt.Errorf("store: days of invoice line %d: %w", l.ID, err)
	}
	return days, nil
}

// ReportTelemetryOf reads the report's month as the telemetry has it now.
func ReportTelemetryOf(ctx context.Context, db *gorm.DB, r *UsageReport, now time.Time) (ReportTelemetry, error) {
	var out ReportTelemetry
	a, err := GetAllocation(ctx, db, r.AllocationID)
	if err != nil {
		return out, err
	}
	m := r.ReportMonth()
	out.Unnamed = max(a.GPUCount-len(a.Current()), 0)
	start, end := a.clip(m.First.Start(), m.Next().First.Start())
	var observed map[string]float64
	out.Days, observed, err = monthDays(ctx, db, a, r.OrganisationID, m, r.GPUHours)
	if err != nil {
		return out, err
	}
	until := end
	if now.Before(until) {
		until = now.UTC()
	}
	if until.Before(start) {
		until = start
	}
	downs, err := downtimesOf(ctx, db, a.ClusterID, start, until)
	if err != nil {
		return out, err
	}
	nodes := map[string]string{}
	var gpus []GPU
	if err := db.WithContext(ctx).Where("uuid IN ?", append(a.UUIDs(), "")).Find(&gpus).Error; err != nil {
		return out, fmt.Errorf("store: GPUs of allocation %d: %w", a.ID, err)
	}
	for _, g := range gpus {
		nodes[g.UUID] = g.Node
	}
	for _, g := range a.GPUs {
		s, e := g.Window(start, until)
		if !e.After(s) {
			continue
		}
		exp := (e.Sub(s).Seconds() - coveredSeconds(downs, s, e)) / 3600
		obs := min(observed[g.GPUUUID], exp)
		if exp-obs >= 1 {
			out.Gaps = append(out.Gaps, GPUGap{UUID: g.GPUUUID, Node: nodes[g.GPUUUID], ExpectedHours: exp, Observed: obs})
		}
	}
	slices.SortFunc(out.Gaps, func(x, y GPUGap) int {
		if c := y.MissingHours() - x.MissingHours(); c != 0 {
			if c > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(x.UUID, y.UUID)
	})
	out.Workloads, err = AllocationWorkloads(ctx, db, a, "", m.First.Start(), m.Next().First.Start())
	return out, err
}
