package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Reminders, overdue answers and telemetry gaps are not events a user
// makes: SweepNotifications finds those due at an instant and records
// them. It may run as often as one likes (every minute in serve): each
// notice has a key, so that nobody is told twice.

// NotifySettings are the settings of the sweep.
type NotifySettings struct {
	// ReminderOffsets are how long before a deadline its reminders go out
	// (e.g. 72h and 24h).
	ReminderOffsets []time.Duration
	// AllocationEndingAhead is how long before an allocation ends its team
	// and the officers are told.
	AllocationEndingAhead time.Duration
	// TelemetryGap is how long an allocation in its period may go without
	// any of its GPUs being seen before the officers and the team are told.
	TelemetryGap time.Duration
}

// DefaultNotifySettings are the settings .env.example documents as the defaults.
func DefaultNotifySettings() NotifySettings {
	return NotifySettings{ReminderOffsets: []time.Duration{72 * time.Hour, 24 * time.Hour},
		AllocationEndingAhead: 7 * 24 * time.Hour, TelemetryGap: 6 * time.Hour}
}

// Deadlines a NotifyReminder is about (its Params["deadline"]).
const (
	DeadlineAppealWindow = "appeal_window"
	DeadlineSignature    = "signature"
	DeadlineStageReport  = "stage_report"
)

// lateNoticeWithin bounds how long after its due date a report missing
// still gets its late notice: the sweep runs every minute, so a report
// late for longer was told when it became late, or was late before the
// portal told anyone.
const lateNoticeWithin = 31 * 24 * time.Hour

// ReminderDue says which reminder of a deadline is due at now: the
// smallest offset o with deadline-o ≤ now < deadline. ok is false before
// the largest offset and from the deadline on. A sweep that missed an
// earlier offset sends only the latest one due, not each one it missed.
func ReminderDue(deadline, now time.Time, offsets []time.Duration) (offset time.Duration, ok bool) {
	if !now.Before(deadline) {
		return 0, false
	}
	for _, o := range offsets {
		if o > 0 && !now.Before(deadline.Add(-o)) && (!ok || o < offset) {
			offset, ok = o, true
		}
	}
	return offset, ok
}

// SignBy is the instant by which a version out for signature should be
// signed: the first day of its terms (00:00 KST), from which it would
// apply. A version signed later comes into force on the day it is
// completed (completeVersion), later than its terms say.
func (v *AgreementVersion) SignBy() (time.Time, bool) {
	d, err := ParseDate(v.StartDate)
	if err != nil {
		return time.Time{}, false
	}
	return d.Start(), true
}

// ReportDeadline is the first instant a month's report is late: the end of
// its due day (a report submitted on the due day is on time).
func ReportDeadline(due Date) time.Time { return due.AddDays(1).Start() }

// SweepNotifications records every reminder, overdue answer, ending
// allocation and telemetry gap due at now, each once: appeal windows
// closing (to the applicants not selected that have not appealed),
// appeals overdue for an answer (officers), signatures pending (the
// parties that have not signed; the officers when only the ministry has
// not), usage reports due and late (the team; late also the officers),
// opinion periods closing (the teams that sent no opinion), allocations
// ending (team and officers) and allocations whose telemetry is missing
// (officers and team). It goes on past a failing part and returns every
// error.
func SweepNotifications(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) error {
	db = db.WithContext(ctx)
	var errs []error
	for _, part := range []struct {
		name  string
		sweep func(context.Context, *gorm.DB, time.Time, NotifySettings) ([]Notification, error)
	}{
		{"appeal windows", sweepAppealWindows},
		{"appeals overdue", sweepAppealsOverdue},
		{"signatures", sweepSignatures},
		{"usage reports", sweepReports},
		{"opinion periods", sweepOpinions},
		{"stage reports", sweepStageReports},
		{"allocations", sweepAllocations},
	} {
		ns, err := part.sweep(ctx, db, now, s)
		if err == nil && len(ns) > 0 {
			err = db.Transaction(func(tx *gorm.DB) error { return Notify(ctx, tx, now, ns...) })
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("store: sweep %s: %w", part.name, err))
		}
	}
	return errors.Join(errs...)
}

// appealWindowHorizon bounds the decisions whose window may still be open:
// ten days and the longest run of holidays after them, with room to spare.
// A decision with an explicit closing instant is looked at until it.
const appealWindowHorizon = 60 * 24 * time.Hour

func sweepAppealWindows(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	var ds []Decision
	err := db.Preload("Call").Preload("Entries", func(tx *gorm.DB) *gorm.DB { return tx.Order("rank") }).
		Where("published_at <= ? AND (published_at > ? OR explicit_close > ?)", now, now.Add(-appealWindowHorizon), now).
		Order("id").Find(&ds).Error
	if err != nil {
		return nil, err
	}
	var out []Notification
	for i := range ds {
		d := &ds[i]
		if len(d.Entries) == 0 {
			continue
		}
		// The rule of filing (CheckAppealable) says whether the window
		// is open and the decision still stands; it is the same for
		// every organisation the decision concerns.
		w, err := CheckAppealable(ctx, db, d, d.Entries[0].OrganisationID, now)
		if errors.Is(err, ErrAppealWindowClosed) || errors.Is(err, ErrDecisionSuperseded) {
			continue
		}
		if err != nil {
			return nil, err
		}
		offset, ok := ReminderDue(w.Closes, now, s.ReminderOffsets)
		if !ok {
			continue
		}
		var appealed []uint
		if err := db.Model(&Appeal{}).Where("decision_id = ?", d.ID).Pluck("organisation_id", &appealed).Error; err != nil {
			return nil, err
		}
		subject, err := decisionSubject(ctx, db, d)
		if err != nil {
			return nil, err
		}
		for _, e := range d.Entries {
			if e.Selected || slices.Contains(appealed, e.OrganisationID) {
				continue
			}
			to, err := companyAudience(ctx, db, e.OrganisationID)
			if err != nil {
				return nil, err
			}
			out = append(out, Notification{Kind: NotifyReminder, To: to, Link: fmt.Sprintf("/decisions/%d/appeal", d.ID),
				Key: fmt.Sprintf("appeal-window:%d:org:%d:%s", d.ID, e.OrganisationID, offset),
				Params: map[string]string{"deadline": DeadlineAppealWindow, "object": subject, "closes": kstSecond(w.Closes),
					"decision": strconv.FormatUint(uint64(d.ID), 10)}})
		}
	}
	return out, nil
}

func sweepAppealsOverdue(ctx context.Context, db *gorm.DB, now time.Time, _ NotifySettings) ([]Notification, error) {
	var as []Appeal
	if err := db.Preload("Organisation").Where("status IN ? AND answer_by <= ?", []AppealStatus{AppealReceived, AppealUnderReview}, now).
		Order("id").Find(&as).Error; err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(as))
	for _, a := range as {
		if !a.Overdue(now) {
			continue
		}
		out = append(out, Notification{Kind: NotifyAppealOverdue, To: Audience{Roles: officers}, Link: fmt.Sprintf("/appeals/%d", a.ID),
			Key: fmt.Sprintf("appeal:%d:overdue", a.ID),
			Params: map[string]string{"receipt": a.Receipt, "organisation": a.Organisation.NameKO,
				"filed": kstSecond(a.FiledAt), "answer_by": kstSecond(a.AnswerBy)}})
	}
	return out, nil
}

func sweepSignatures(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	var ids []uint
	if err := db.Model(&AgreementVersion{}).Where("status = ?", VersionOut).Distinct().Pluck("agreement_id", &ids).Error; err != nil {
		return nil, err
	}
	var out []Notification
	for _, id := range ids {
		a, err := GetAgreement(ctx, db, id)
		if err != nil {
			return nil, err
		}
		v := a.Pending()
		if v == nil || v.Status != VersionOut {
			continue
		}
		by, ok := v.SignBy()
		if !ok {
			continue
		}
		offset, ok := ReminderDue(by, now, s.ReminderOffsets)
		if !ok {
			continue
		}
		missing := v.Missing()
		for _, p := range missing {
			var to Audience
			switch {
			case p.Role != SignerMinistry:
				if to, err = companyAudience(ctx, db, p.OrganisationID); err != nil {
					return nil, err
				}
			case len(missing) == 1: // the ministry signs last
				to = Audience{Roles: officers}
			default:
				continue
			}
			params := agreementParams(a, v)
			params["deadline"], params["object"], params["closes"] = DeadlineSignature, a.Number, kstSecond(by)
			out = append(out, Notification{Kind: NotifyReminder, To: to, Link: fmt.Sprintf("/agreements/%d", a.ID),
				Key: fmt.Sprintf("agreement-version:%d:sign:%d:%s", v.ID, p.OrganisationID, offset), Params: params})
		}
	}
	return out, nil
}

func sweepReports(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	// An allocation that ended long ago has nothing due: its last month's
	// report was due within the next month (a due day is at most the 28th,
	// rolled to a working day) and late notices stop lateNoticeWithin after.
	today := DateOf(now)
	var allocs []Allocation
	if err := db.Preload("Organisation").Where("period_from <= ? AND period_to >= ?", today.String(),
		today.AddDays(-(62 + maxRoll + int(lateNoticeWithin/(24*time.Hour)))).String()).Order("id").Find(&allocs).Error; err != nil {
		return nil, err
	}
	if len(allocs) == 0 {
		return nil, nil
	}
	settings, err := CurrentUsageSettings(ctx, db)
	if err != nil {
		return nil, err
	}
	recs, err := LoadHolidayRecords(ctx, db)
	if err != nil {
		return nil, err
	}
	cal := recs.At(now)
	var reports []UsageReport
	ids := make([]uint, len(allocs))
	for i, a := range allocs {
		ids[i] = a.ID
	}
	if err := db.Where("allocation_id IN ?", ids).Find(&reports).Error; err != nil {
		return nil, err
	}
	byKey := map[string]*UsageReport{}
	for i := range reports {
		byKey[fmt.Sprintf("%d/%s", reports[i].AllocationID, reports[i].Month)] = &reports[i]
	}
	current := MonthOf(now)
	var out []Notification
	for i := range allocs {
		a := &allocs[i]
		team, err := companyAudience(ctx, db, a.OrganisationID)
		if err != nil {
			return nil, err
		}
		for _, m := range a.reportMonths(current) {
			r := byKey[fmt.Sprintf("%d/%s", a.ID, m)]
			if r != nil && r.SubmittedAt != nil {
				continue
			}
			// The due date is the report's own once saved, else the rule's today.
			var due Date
			if r != nil {
				if due, err = ParseDate(r.DueDate); err != nil {
					return nil, err
				}
			} else if due, err = ReportDueDate(m, settings.DueDay, cal); err != nil {
				continue // beyond the holiday data: no date to remind of yet
			}
			deadline := ReportDeadline(due)
			params := map[string]string{"month": m.String(), "allocation": strconv.FormatUint(uint64(a.ID), 10),
				"team": a.Organisation.NameKO, "due": due.String(), "closes": kstSecond(deadline)}
			form := fmt.Sprintf("/usage-reports/allocations/%d/%s", a.ID, m)
			if offset, ok := ReminderDue(deadline, now, s.ReminderOffsets); ok {
				out = append(out, Notification{Kind: NotifyReportDue, To: team, Link: form,
					Key: fmt.Sprintf("report:%d:%s:due:%s", a.ID, m, offset), Params: params})
			}
			if !now.Before(deadline) && now.Before(deadline.Add(lateNoticeWithin)) {
				key := fmt.Sprintf("report:%d:%s:late", a.ID, m)
				out = append(out,
					Notification{Kind: NotifyReportLate, To: team, Link: form, Key: key, Params: params},
					Notification{Kind: NotifyReportLate, To: Audience{Roles: officers}, Link: fmt.Sprintf("/allocations/%d", a.ID),
						Key: key, Params: params})
			}
		}
	}
	return out, nil
}

func sweepOpinions(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	var stages []Stage
	if err := db.Where("opinions_close > ? AND frozen_at IS NULL", now).Order("id").Find(&stages).Error; err != nil {
		return nil, err
	}
	var out []Notification
	for i := range stages {
		st := &stages[i]
		if !st.OpinionsOpen(now) {
			continue
		}
		closes := *st.OpinionsClose
		offset, ok := ReminderDue(closes, now, s.ReminderOffsets)
		if !ok {
			continue
		}
		var sent []uint
		if err := db.Model(&StageOpinion{}).Where("stage_id = ?", st.ID).Pluck("organisation_id", &sent).Error; err != nil {
			return nil, err
		}
		except := map[uint]bool{}
		for _, id := range sent {
			except[id] = true
		}
		to, err := stageTeamsAudience(ctx, db, st, except)
		if err != nil {
			return nil, err
		}
		out = append(out, Notification{Kind: NotifyOpinionClosing, To: to, Link: fmt.Sprintf("/stages/%d/team", st.ID),
			Key:    fmt.Sprintf("stage:%d:opinions-closing:%d:%s", st.ID, closes.Unix(), offset),
			Params: map[string]string{"stage": st.NameKO, "closes": kstSecond(closes)}})
	}
	return out, nil
}

// sweepStageReports reminds the teams of a stage that have not submitted
// their stage report before it is due (Stage.ReportsOpen is the rule).
func sweepStageReports(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	var stages []Stage
	if err := db.Where("report_due > ? AND final_at IS NULL", now).Order("id").Find(&stages).Error; err != nil {
		return nil, err
	}
	var out []Notification
	for i := range stages {
		st := &stages[i]
		if !st.ReportsOpen(now) {
			continue
		}
		due := *st.ReportDue
		offset, ok := ReminderDue(due, now, s.ReminderOffsets)
		if !ok {
			continue
		}
		var sent []uint
		if err := db.Model(&StageReport{}).Where("stage_id = ?", st.ID).Pluck("organisation_id", &sent).Error; err != nil {
			return nil, err
		}
		except := map[uint]bool{}
		for _, id := range sent {
			except[id] = true
		}
		to, err := stageTeamsAudience(ctx, db, st, except)
		if err != nil {
			return nil, err
		}
		out = append(out, Notification{Kind: NotifyReminder, To: to, Link: fmt.Sprintf("/stages/%d/team", st.ID),
			Key:    fmt.Sprintf("stage:%d:report-due:%d:%s", st.ID, due.Unix(), offset),
			Params: map[string]string{"deadline": DeadlineStageReport, "object": st.NameKO, "closes": kstSecond(due)}})
	}
	return out, nil
}

func sweepAllocations(ctx context.Context, db *gorm.DB, now time.Time, s NotifySettings) ([]Notification, error) {
	today := DateOf(now).String()
	var allocs []Allocation
	if err := db.Preload("Organisation").Where("period_from <= ? AND period_to >= ?", today, today).Order("id").Find(&allocs).Error; err != nil {
		return nil, err
	}
	var out []Notification
	for i := range allocs {
		a := &allocs[i]
		start, end := a.Span()
		if now.Before(start) || !now.Before(end) {
			continue
		}
		team, err := companyAudience(ctx, db, a.OrganisationID)
		if err != nil {
			return nil, err
		}
		to := Audience{Users: team.Users, Roles: officers}
		link := fmt.Sprintf("/allocations/%d", a.ID)
		id := strconv.FormatUint(uint64(a.ID), 10)
		if s.AllocationEndingAhead > 0 && !now.Before(end.Add(-s.AllocationEndingAhead)) {
			out = append(out, Notification{Kind: NotifyAllocationEnding, To: to, Link: link,
				Key: fmt.Sprintf("allocation:%d:ending:%s", a.ID, a.PeriodTo),
				Params: map[string]string{"allocation": id, "team": a.Organisation.NameKO, "last_day": a.PeriodTo,
					"ends": kstSecond(end), "gpus": strconv.Itoa(a.GPUCount)}})
		}
		if s.TelemetryGap <= 0 {
			continue
		}
		since, named, err := telemetrySince(ctx, db, a, start)
		if err != nil {
			return nil, err
		}
		if named && now.Sub(since) > s.TelemetryGap {
			out = append(out, Notification{Kind: NotifyTelemetryMissing, To: to, Link: link,
				Key: fmt.Sprintf("allocation:%d:telemetry:%d", a.ID, since.Unix()),
				Params: map[string]string{"allocation": id, "team": a.Organisation.NameKO, "since": kstSecond(since),
					"gap": s.TelemetryGap.String()}})
		}
	}
	return out, nil
}

// telemetrySince is the last instant any GPU of the allocation (those in
// it now) was seen by the collector, or the start of its period when none
// was seen since; named is false for an allocation that names no GPU yet
// (nodes allocated while the cluster was down), which has none to see.
func telemetrySince(ctx context.Context, db *gorm.DB, a *Allocation, start time.Time) (since time.Time, named bool, err error) {
	var n int64
	current := db.WithContext(ctx).Model(&AllocationGPU{}).Where("allocation_id = ? AND left_at IS NULL", a.ID)
	if err := current.Count(&n).Error; err != nil {
		return time.Time{}, false, err
	}
	if n == 0 {
		return time.Time{}, false, nil
	}
	var seen []time.Time
	if err := db.WithContext(ctx).Model(&GPU{}).
		Where("uuid IN (?)", db.WithContext(ctx).Model(&AllocationGPU{}).Select("gpu_uuid").Where("allocation_id = ? AND left_at IS NULL", a.ID)).
		Order("last_seen DESC").Limit(1).Pluck("last_seen", &seen).Error; err != nil {
		return time.Time{}, false, err
	}
	since = start
	if len(seen) == 1 && seen[0].After(since) {
		since = seen[0].UTC()
	}
	return since, true, nil
}
