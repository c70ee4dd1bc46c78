package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// The dashboards are task lists: what a user has to do next, each task
// with its deadline where it has one. The rules that pick the tasks are
// here, as pure functions of loaded rows and the clock; the deadlines come
// from the rules that own them (the appeal window, the report due date,
// the stage's instants, the appeal's answer date).

// Task is one thing to do with its deadline: Due is the first instant at
// which it is late (zero: no deadline).
type Task struct {
	Due time.Time
	// DueDay is the last day on time (KST) for a task due by a day's end
	// (zero for one due at an instant): the pages show the day.
	DueDay Date
}

// Overdue reports whether the task is late at now.
func (t Task) Overdue(now time.Time) bool { return !t.Due.IsZero() && !now.Before(t.Due) }

// byDeadline orders tasks overdue first, then by deadline, tasks without
// one last; equal deadlines keep their order.
func byDeadline(now time.Time) func(a, b Task) int {
	return func(a, b Task) int {
		if ao, bo := a.Overdue(now), b.Overdue(now); ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		switch {
		case a.Due.IsZero() && b.Due.IsZero():
			return 0
		case a.Due.IsZero():
			return 1
		case b.Due.IsZero():
			return -1
		}
		return a.Due.Compare(b.Due)
	}
}

// dayEnd is the first instant after a KST date: a task due on that day is
// late from then.
func dayEnd(d Date) time.Time { return d.AddDays(1).Start() }

// CompanyResult is one decision that ranked the organisation: its entry,
// the appeal window and whether the company may still appeal.
type CompanyResult struct {
	Task
	Decision  *Decision
	Entry     DecisionEntry
	Window    Window
	WindowErr error
	Open      bool     // the window is open at now and the decision stands
	Appeals   []Appeal // the organisation's appeals against it
}

// companyResults picks, from every published decision (newest first), the
// standing ones that rank the organisation; a decision corrected by a later
// one is left out for the one that stands. Window is the rule that gives a
// decision's appeal window at now.
func companyResults(ds []Decision, orgID uint, appeals []Appeal, window func(*Decision) (Window, error), now time.Time) []CompanyResult {
	corrected := map[uint]bool{}
	for _, d := range ds {
		if d.SupersedesID != nil {
			corrected[*d.SupersedesID] = true
		}
	}
	var out []CompanyResult
	for i := range ds {
		d := &ds[i]
		e, ok := d.Entry(orgID)
		if !ok || corrected[d.ID] {
			continue
		}
		r := CompanyResult{Decision: d, Entry: e}
		r.Window, r.WindowErr = window(d)
		if r.WindowErr == nil {
			r.Open = r.Window.IsOpen(now)
			if r.Open {
				r.Due = r.Window.Closes
			}
		}
		for _, a := range appeals {
			if a.DecisionID == d.ID {
				r.Appeals = append(r.Appeals, a)
			}
		}
		out = append(out, r)
	}
	return out
}

// SignTask is an agreement version out for signature that waits for the
// organisation's signer (CompanyDashboard) or for the parties named in
// Missing (OfficerDashboard).
type SignTask struct {
	Agreement *Agreement
	Version   *AgreementVersion
	Missing   []AgreementParty
}

// WaitsForMinistry reports whether the ministry has still to sign.
func (s SignTask) WaitsForMinistry() bool {
	for _, p := range s.Missing {
		if p.Role == SignerMinistry {
			return true
		}
	}
	return false
}

// WaitsOnlyForMinistry reports whether every other party has signed and
// the ministry's countersignature is the last one missing.
func (s SignTask) WaitsOnlyForMinistry() bool {
	return len(s.Missing) == 1 && s.Missing[0].Role == SignerMinistry
}

// signatureTasks lists the versions out for signature that still miss a
// signature; with orgID set, only those that miss the organisation's.
func signatureTasks(as []Agreement, orgID *uint) []SignTask {
	var out []SignTask
	for i := range as {
		v := as[i].Pending()
		if v == nil || v.Status != VersionOut {
			continue
		}
		missing := v.Missing()
		if len(missing) == 0 {
			continue
		}
		if orgID != nil && (v.Party(*orgID) == nil || v.SignatureOf(*orgID) != nil) {
			continue
		}
		out = append(out, SignTask{Agreement: &as[i], Version: v, Missing: missing})
	}
	return out
}

// ReportTask is a monthly usage report the team has to write (the month
// has ended and no report is submitted) or to correct (an auditor returned
// it); Due is the end of its due date.
type ReportTask struct {
	Task
	Row      ReportMonthRow
	Returned bool
}

// reportTasks picks the report months that need the team: a month that
// has ended without a submitted report, and a returned report.
func reportTasks(rows []ReportMonthRow, now time.Time) []ReportTask {
	current := MonthOf(now)
	var out []ReportTask
	for _, row := range rows {
		t := ReportTask{Row: row}
		if due, err := ParseDate(row.Due); err == nil {
			t.Due, t.DueDay = dayEnd(due), due
		}
		switch {
		case row.Report != nil && row.Report.State == ReportReturned:
			t.Returned = true
		case !row.Month.First.Before(current.First):
			continue // the month is not over: nothing is due yet
		case row.Report == nil || row.Report.State == ReportDraft:
		default:
			continue
		}
		out = append(out, t)
	}
	slices.SortStableFunc(out, func(a, b ReportTask) int { return byDeadline(now)(a.Task, b.Task) })
	return out
}

// Stage task kinds.
const (
	StageTaskOpinion = "opinion" // the proposed set is open for the teams' opinions
	StageTaskReport  = "report"  // the team's stage report is due
)

// StageTask is a stage evaluation that asks something of the team.
type StageTask struct {
	Task
	Stage *Stage
	Kind  string
}

// stageTasks lists, for a team in standing, the open opinion periods it
// has sent no opinion in and the stage reports it has not submitted.
func stageTasks(stages []Stage, opinionSent, reportSent map[uint]bool, now time.Time) []StageTask {
	var out []StageTask
	for i := range stages {
		s := &stages[i]
		if s.OpinionsOpen(now) && !opinionSent[s.ID] {
			out = append(out, StageTask{Task: Task{Due: *s.OpinionsClose}, Stage: s, Kind: StageTaskOpinion})
		}
		if s.ReportsOpen(now) && !reportSent[s.ID] {
			out = append(out, StageTask{Task: Task{Due: *s.ReportDue}, Stage: s, Kind: StageTaskReport})
		}
	}
	slices.SortStableFunc(out, func(a, b StageTask) int { return byDeadline(now)(a.Task, b.Task) })
	return out
}

// NameRight is a K-AI naming right the organisation holds today, with the
// agreement it rests on (Agreement empty for an officer's grant).
type NameRight struct {
	Grant     NamingGrant
	Agreement AgreementRef
}

// CompanyDashboard is what a company has to do and what it holds.
type CompanyDashboard struct {
	Results []CompanyResult
	ToSign  []SignTask
	Reports []ReportTask
	Stages  []StageTask
	// InStanding: the team's agreement holds today (it is a selected team).
	InStanding bool
	Names      []NameRight
	// tomorrow is the next KST midnight: the names held and the months
	// ended (reports due) are those of the day.
	tomorrow time.Time
}

// Selected reports whether a standing decision selected the organisation.
func (c *CompanyDashboard) Selected() bool {
	for _, r := range c.Results {
		if r.Entry.Selected {
			return true
		}
	}
	return false
}

// Deadlines are the instants at which a task of the dashboard becomes due
// or a window closes (the page changes then).
func (c *CompanyDashboard) Deadlines() []time.Time {
	out := []time.Time{c.tomorrow}
	for _, r := range c.Results {
		out = append(out, r.Window.Closes)
	}
	for _, t := range c.Reports {
		out = append(out, t.Due)
	}
	for _, t := range c.Stages {
		out = append(out, t.Due)
	}
	return out
}

// LoadCompanyDashboard gathers the organisation's tasks at now, for a user
// who may see it; its statements do not grow with the data.
func LoadCompanyDashboard(ctx context.Context, db *gorm.DB, org *Organisation, by *User, now time.Time) (*CompanyDashboard, error) {
	if !by.MaySeeOrganisation(org.ID) {
		return nil, fmt.Errorf("store: dashboard of organisation %d: %w", org.ID, ErrNotFound)
	}
	out := &CompanyDashboard{tomorrow: DateOf(now).AddDays(1).Start()}
	ds, err := ListDecisions(ctx, db)
	if err != nil {
		return nil, err
	}
	appeals, err := ListAppeals(ctx, db, AppealFilter{OrganisationID: org.ID})
	if err != nil {
		return nil, err
	}
	recs, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	out.Results = companyResults(ds, org.ID, appeals, func(d *Decision) (Window, error) {
		w, _, err := recs.DecisionWindow(d, now)
		return w, err
	}, now)

	as, err := ListAgreements(ctx, db, &org.ID)
	if err != nil {
		return nil, err
	}
	out.ToSign = signatureTasks(as, &org.ID)

	rows, err := TeamReportMonths(ctx, db, org.ID, by, now)
	if err != nil {
		return nil, err
	}
	out.Reports = reportTasks(rows, now)

	today := DateOf(now)
	switch _, err := CheckStanding(ctx, db, org.ID, today, today); {
	case err == nil:
		out.InStanding = true
	case !errors.Is(err, ErrNoAgreement):
		return nil, err
	}
	if out.InStanding {
		if out.Stages, err = teamStageTasks(ctx, db, org.ID, now); err != nil {
			return nil, err
		}
	}

	grants, err := ListGrants(ctx, db)
	if err != nil {
		return nil, err
	}
	var held []NamingGrant
	for _, g := range grants {
		if g.HolderID == org.ID && g.HoldsOn(today) {
			held = append(held, g)
		}
	}
	refs, err := GrantAgreements(ctx, db, held)
	if err != nil {
		return nil, err
	}
	for _, g := range held {
		out.Names = append(out.Names, NameRight{Grant: g, Agreement: refs[g.ID]})
	}
	return out, nil
}

// teamStageTasks loads the stages and what the team sent to them.
func teamStageTasks(ctx context.Context, db *gorm.DB, orgID uint, now time.Time) ([]StageTask, error) {
	stages, err := ListStages(ctx, db)
	if err != nil {
		return nil, err
	}
	tx := db.WithContext(ctx)
	var opinionStages, reportStages []uint
	if err := tx.Model(&StageOpinion{}).Where("organisation_id = ?", orgID).Distinct().Pluck("stage_id", &opinionStages).Error; err != nil {
		return nil, fmt.Errorf("store: stage opinions of %d: %w", orgID, err)
	}
	if err := tx.Model(&StageReport{}).Where("organisation_id = ?", orgID).Distinct().Pluck("stage_id", &reportStages).Error; err != nil {
		return nil, fmt.Errorf("store: stage reports of %d: %w", orgID, err)
	}
	set := func(ids []uint) map[uint]bool {
		m := map[uint]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	return stageTasks(stages, set(opinionStages), set(reportStages), now), nil
}

// AppealTask is an appeal the ministry has to answer by AnswerBy.
type AppealTask struct {
	Task
	Appeal *Appeal
}

// appealTasks are the appeals not yet answered, overdue first, then by
// the date their answer is due.
func appealTasks(appeals []Appeal, now time.Time) []AppealTask {
	var out []AppealTask
	for i := range appeals {
		if appeals[i].Status.Decided() {
			continue
		}
		out = append(out, AppealTask{Task: Task{Due: appeals[i].AnswerBy}, Appeal: &appeals[i]})
	}
	slices.SortStableFunc(out, func(a, b AppealTask) int { return byDeadline(now)(a.Task, b.Task) })
	return out
}

// TelemetryGap is a team whose allocations' telemetry this month covers
// less than the verification's coverage threshold so far.
type TelemetryGap struct {
	Team     TeamMonth
	Coverage float64 // percent
}

// telemetryGaps picks the teams below the threshold among those expected
// to have telemetry so far.
func telemetryGaps(teams []TeamMonth, threshold float64) []TelemetryGap {
	var out []TelemetryGap
	for _, t := range teams {
		m := MeasuredUsage(t.Usage)
		if m.ExpectedHours <= 0 {
			continue
		}
		if c := m.Coverage(); c < threshold {
			out = append(out, TelemetryGap{Team: t, Coverage: c})
		}
	}
	slices.SortStableFunc(out, func(a, b TelemetryGap) int { return cmp.Compare(a.Coverage, b.Coverage) })
	return out
}

// failingClusters are the clusters whose collection is not fully working:
// failing, retrying, backing off, partial or stale.
func failingClusters(hs []ClusterHealth) []ClusterHealth {
	var out []ClusterHealth
	for _, h := range hs {
		switch h.State {
		case ClusterFailing, ClusterRetrying, ClusterBackingOff, ClusterPartial, ClusterStale:
			out = append(out, h)
		}
	}
	return out
}

// OpinionPeriod is a stage whose opinion period is open, closing at Due.
type OpinionPeriod struct {
	Task
	Stage *Stage
}

// openOpinionPeriods are the stages open for opinions, closing first first.
func openOpinionPeriods(stages []Stage, now time.Time) []OpinionPeriod {
	var out []OpinionPeriod
	for i := range stages {
		if stages[i].OpinionsOpen(now) {
			out = append(out, OpinionPeriod{Task: Task{Due: *stages[i].OpinionsClose}, Stage: &stages[i]})
		}
	}
	slices.SortStableFunc(out, func(a, b OpinionPeriod) int { return byDeadline(now)(a.Task, b.Task) })
	return out
}

// OfficerDashboard is what the ministry has to do.
type OfficerDashboard struct {
	Appeals        []AppealTask
	Signatures     []SignTask
	Discrepancies  ReportQueuePage // submitted reports in discrepancy, oldest first
	OpinionPeriods []OpinionPeriod
}

// TelemetryTasks are the ministry's tasks that come from the telemetry:
// they change with every poll, so no cached page shows them (the
// collector's tables do not move the data version).
type TelemetryTasks struct {
	Gaps     []TelemetryGap
	Coverage float64 // the threshold the gaps are measured against
	Failing  []ClusterHealth
}

// LoadTelemetryTasks gathers the teams below the coverage threshold this
// month so far and the clusters whose collection fails, at now.
func LoadTelemetryTasks(ctx context.Context, db *gorm.DB, now time.Time) (*TelemetryTasks, error) {
	out := &TelemetryTasks{}
	s, err := CurrentUsageSettings(ctx, db)
	if err != nil {
		return nil, err
	}
	out.Coverage = s.CoverageThreshold
	teams, _, err := ProgrammeMonth(ctx, db, MonthOf(now), now)
	if err != nil {
		return nil, err
	}
	out.Gaps = telemetryGaps(teams, s.CoverageThreshold)
	hs, err := ListClusterHealth(ctx, db, now)
	if err != nil {
		return nil, err
	}
	out.Failing = failingClusters(hs)
	return out, nil
}

// Deadlines are the instants at which the page's tasks change.
func (o *OfficerDashboard) Deadlines() []time.Time {
	var out []time.Time
	for _, t := range o.Appeals {
		out = append(out, t.Due)
	}
	for _, t := range o.OpinionPeriods {
		out = append(out, t.Due)
	}
	return out
}

// LoadOfficerDashboard gathers the ministry's tasks at now.
func LoadOfficerDashboard(ctx context.Context, db *gorm.DB, by *User, now time.Time) (*OfficerDashboard, error) {
	out := &OfficerDashboard{}
	appeals, err := ListAppeals(ctx, db, AppealFilter{})
	if err != nil {
		return nil, err
	}
	out.Appeals = appealTasks(appeals, now)
	as, err := ListAgreements(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	out.Signatures = signatureTasks(as, nil)
	if out.Discrepancies, err = ReportQueue(ctx, db, ReportFilter{Kind: QueueReports, Outcome: OutcomeDiscrepancy}, by); err != nil {
		return nil, err
	}
	stages, err := ListStages(ctx, db)
	if err != nil {
		return nil, err
	}
	out.OpinionPeriods = openOpinionPeriods(stages, now)
	return out, nil
}

// AuditorDashboard is the auditors' queue and the chain's state.
type AuditorDashboard struct {
	Queue ReportQueuePage // submitted reports and invoice lines, oldest first
	Check AuditCheck
}

// LoadAuditorDashboard gathers the auditor's tasks at now.
func LoadAuditorDashboard(ctx context.Context, db *gorm.DB, by *User, now time.Time) (*AuditorDashboard, error) {
	out := &AuditorDashboard{}
	var err error
	if out.Queue, err = ReportQueue(ctx, db, ReportFilter{}, by); err != nil {
		return nil, err
	}
	if out.Check, err = CheckAuditChain(ctx, db, false, now); err != nil {
		return nil, err
	}
	return out, nil
}

// EvaluatorStage is a stage the user evaluates, with their assignment:
// Open while the stage's decision is not published (scores are wanted),
// and then the assignment's due day is the task's deadline.
type EvaluatorStage struct {
	Task
	Stage     Stage
	Evaluator StageEvaluator
	Open      bool
}

// EvaluatorStages lists the stages the user evaluates: the open ones first,
// overdue first, then by due day; then the decided ones by number.
func EvaluatorStages(ctx context.Context, db *gorm.DB, u *User, now time.Time) ([]EvaluatorStage, error) {
	tx := db.WithContext(ctx)
	var es []StageEvaluator
	if err := tx.Where("user_id = ?", u.ID).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("store: evaluator %d: %w", u.ID, err)
	}
	stages, err := StageAssignments(ctx, db, u)
	if err != nil {
		return nil, err
	}
	return evaluatorStages(stages, es, now), nil
}

// evaluatorStages pairs the stages with the user's assignments and orders
// them (see EvaluatorStages).
func evaluatorStages(stages []Stage, es []StageEvaluator, now time.Time) []EvaluatorStage {
	byStage := map[uint]StageEvaluator{}
	for _, e := range es {
		byStage[e.StageID] = e
	}
	var open, decided []EvaluatorStage
	for _, s := range stages {
		e := byStage[s.ID]
		row := EvaluatorStage{Stage: s, Evaluator: e, Open: s.DecisionID == nil}
		if row.Open {
			row.Task = e.Due()
			open = append(open, row)
		} else {
			decided = append(decided, row)
		}
	}
	slices.SortStableFunc(open, func(a, b EvaluatorStage) int { return byDeadline(now)(a.Task, b.Task) })
	return append(open, decided...)
}
