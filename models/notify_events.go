package models

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// The notices of the events: each model function that makes an event
// records its notices with one of these, inside its own transaction, so
// that an event that rolls back tells no one. A company's notices go to
// the company users of that organisation only (companyAudience), never to
// another's; the ministry's to its officers.

// NoticeTimeLayout is how a notice's instants are written (KST, to the second).
const NoticeTimeLayout = "2006-01-02 15:04:05"

// kstSecond writes an instant as the notices show it: KST, to the second.
func kstSecond(t time.Time) string { return t.In(KST).Format(NoticeTimeLayout) }

// officers is the audience of the ministry's officers.
var officers = []Role{RoleOfficer}

// companyAudience is the company users of the organisations: the people
// who act for them, and nobody else (an evaluator or auditor who happens
// to belong to one of them is not told its affairs).
func companyAudience(ctx context.Context, tx *gorm.DB, orgIDs ...uint) (Audience, error) {
	if len(orgIDs) == 0 {
		return Audience{}, nil
	}
	var ids []uint
	if err := tx.WithContext(ctx).Model(&User{}).Where("organisation_id IN ? AND role = ?", orgIDs, RoleCompany).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return Audience{}, fmt.Errorf("store: company users of %v: %w", orgIDs, err)
	}
	return Audience{Users: ids}, nil
}

// decisionSubject is what a notice calls a decision: the stage's name for
// a stage decision, else the call's title.
func decisionSubject(ctx context.Context, tx *gorm.DB, d *Decision) (string, error) {
	if d.Kind == DecisionStage {
		var names []string
		if err := tx.WithContext(ctx).Model(&Stage{}).Where("decision_id = ?", d.ID).Limit(1).Pluck("name_ko", &names).Error; err != nil {
			return "", fmt.Errorf("store: stage of decision %d: %w", d.ID, err)
		}
		if len(names) == 1 {
			return names[0], nil
		}
	}
	if d.Call.ID == 0 {
		var titles []string
		if err := tx.WithContext(ctx).Model(&Call{}).Where("id = ?", d.CallID).Pluck("title_ko", &titles).Error; err != nil || len(titles) == 0 {
			return "", fmt.Errorf("store: call of decision %d: %w", d.ID, err)
		}
		return titles[0], nil
	}
	return d.Call.TitleKO, nil
}

// notifyDecision tells every applicant organisation the decision concerns
// its result, with the appeal window: Params call (the call's title, or the
// stage's name), result (selected or not_selected: for a stage, with stage
// set, continuing or eliminated), rank, opens and closes (the window, KST).
func notifyDecision(ctx context.Context, tx *gorm.DB, d *Decision, subject string, now time.Time) error {
	w, err := DecisionWindow(ctx, tx, d, now)
	if err != nil {
		return fmt.Errorf("store: notices of decision %d: %w", d.ID, err)
	}
	ns := make([]Notification, 0, len(d.Entries))
	for _, e := range d.Entries {
		to, err := companyAudience(ctx, tx, e.OrganisationID)
		if err != nil {
			return err
		}
		result := "not_selected"
		if e.Selected {
			result = "selected"
		}
		params := map[string]string{"call": subject, "result": result, "rank": strconv.Itoa(e.Rank),
			"opens": kstSecond(w.Opens), "closes": kstSecond(w.Closes)}
		if d.Kind == DecisionStage {
			params["stage"] = "1" // the texts say continues or eliminated
		}
		ns = append(ns, Notification{Kind: NotifyDecisionPublished, To: to, Link: fmt.Sprintf("/decisions/%d", d.ID),
			Key: fmt.Sprintf("decision:%d:org:%d", d.ID, e.OrganisationID), Params: params})
	}
	return Notify(ctx, tx, now, ns...)
}

// notifyAppealFiled gives the filer's organisation its receipt and alerts
// the officers.
func notifyAppealFiled(ctx context.Context, tx *gorm.DB, d *Decision, a *Appeal, now time.Time) error {
	subject, err := decisionSubject(ctx, tx, d)
	if err != nil {
		return err
	}
	to, err := companyAudience(ctx, tx, a.OrganisationID)
	if err != nil {
		return err
	}
	e, _ := d.Entry(a.OrganisationID)
	params := map[string]string{"receipt": a.Receipt, "call": subject, "organisation": e.NameKO,
		"filed": kstSecond(a.FiledAt), "answer_by": kstSecond(a.AnswerBy)}
	link := fmt.Sprintf("/appeals/%d", a.ID)
	key := fmt.Sprintf("appeal:%d", a.ID)
	return Notify(ctx, tx, now,
		Notification{Kind: NotifyAppealReceived, To: to, Link: link, Key: key, Params: params},
		Notification{Kind: NotifyAppealFiled, To: Audience{Roles: officers}, Link: link, Key: key, Params: params})
}

// notifyAppealAnswered tells the filer's organisation the answer (outcome
// upheld or dismissed).
func notifyAppealAnswered(ctx context.Context, tx *gorm.DB, d *Decision, a *Appeal, outcome AppealStatus, now time.Time) error {
	subject, err := decisionSubject(ctx, tx, d)
	if err != nil {
		return err
	}
	to, err := companyAudience(ctx, tx, a.OrganisationID)
	if err != nil {
		return err
	}
	return Notify(ctx, tx, now, Notification{Kind: NotifyAppealAnswered, To: to, Link: fmt.Sprintf("/appeals/%d", a.ID),
		Key:    fmt.Sprintf("appeal:%d:answered", a.ID),
		Params: map[string]string{"receipt": a.Receipt, "call": subject, "outcome": string(outcome), "answered": kstSecond(now)}})
}

// versionAudience is the company users of the version's parties other
// than the ministry, and the officers when withOfficers.
func versionAudience(ctx context.Context, tx *gorm.DB, v *AgreementVersion, withOfficers bool) (Audience, error) {
	var orgs []uint
	for _, p := range v.Parties {
		if p.Role != SignerMinistry {
			orgs = append(orgs, p.OrganisationID)
		}
	}
	to, err := companyAudience(ctx, tx, orgs...)
	if withOfficers {
		to.Roles = officers
	}
	return to, err
}

// agreementParams are what every agreement notice shows.
func agreementParams(a *Agreement, v *AgreementVersion) map[string]string {
	return map[string]string{"number": a.Number, "version": strconv.Itoa(v.Number), "start": v.StartDate, "end": v.EndDate}
}

// notifyAgreement tells the version's parties (and the officers, when
// withOfficers) of a step of it, once per key.
func notifyAgreement(ctx context.Context, tx *gorm.DB, kind NotificationKind, key string, a *Agreement, v *AgreementVersion,
	withOfficers bool, extra map[string]string, now time.Time) error {
	to, err := versionAudience(ctx, tx, v, withOfficers)
	if err != nil {
		return err
	}
	params := agreementParams(a, v)
	for k, val := range extra {
		params[k] = val
	}
	return Notify(ctx, tx, now, Notification{Kind: kind, To: to, Link: fmt.Sprintf("/agreements/%d", a.ID), Key: key, Params: params})
}

// reportParams are what every usage report notice shows.
func reportParams(ctx context.Context, tx *gorm.DB, r *UsageReport) (map[string]string, error) {
	var names []string
	if err := tx.WithContext(ctx).Model(&Organisation{}).Where("id = ?", r.OrganisationID).Pluck("name_ko", &names).Error; err != nil {
		return nil, fmt.Errorf("store: team of report %d: %w", r.ID, err)
	}
	team := ""
	if len(names) == 1 {
		team = names[0]
	}
	return map[string]string{"month": r.Month, "allocation": strconv.FormatUint(uint64(r.AllocationID), 10), "team": team,
		"due": r.DueDate}, nil
}

// notifyReport tells the report's team (and the roles named, who act on
// it) of a step of it, once per key.
func notifyReport(ctx context.Context, tx *gorm.DB, kind NotificationKind, key string, r *UsageReport, roles []Role,
	extra map[string]string, now time.Time) error {
	to, err := companyAudience(ctx, tx, r.OrganisationID)
	if err != nil {
		return err
	}
	to.Roles = roles
	params, err := reportParams(ctx, tx, r)
	if err != nil {
		return err
	}
	for k, v := range extra {
		params[k] = v
	}
	return Notify(ctx, tx, now, Notification{Kind: kind, To: to, Link: fmt.Sprintf("/usage-reports/%d", r.ID), Key: key, Params: params})
}

// notifyVerification tells the team what the verification of its latest
// submission found: verified, or a discrepancy (also to the auditors, who
// examine it). Telemetry too thin to judge tells no one: nothing is
// asked of the team. One notice per outcome and submission, however often
// it is verified again.
func notifyVerification(ctx context.Context, tx *gorm.DB, r *UsageReport, outcome string, now time.Time) error {
	var kind NotificationKind
	var roles []Role
	switch outcome {
	case OutcomeVerified:
		kind = NotifyReportVerified
	case OutcomeDiscrepancy:
		kind, roles = NotifyReportDiscrepancy, []Role{RoleAuditor}
	default:
		return nil
	}
	submitted := int64(0)
	if r.SubmittedAt != nil {
		submitted = r.SubmittedAt.Unix()
	}
	return notifyReport(ctx, tx, kind, fmt.Sprintf("report:%d:%s:%d", r.ID, outcome, submitted), r, roles, nil, now)
}

// stageTeamsAudience is the company users of the teams a stage evaluates,
// less those named in except.
func stageTeamsAudience(ctx context.Context, tx *gorm.DB, s *Stage, except map[uint]bool) (Audience, error) {
	teams, err := StageTeams(ctx, tx, s)
	if err != nil {
		return Audience{}, err
	}
	var orgs []uint
	for _, t := range teams {
		if !except[t.Organisation.ID] {
			orgs = append(orgs, t.Organisation.ID)
		}
	}
	return companyAudience(ctx, tx, orgs...)
}

// notifyOpinionsOpened tells the stage's teams that its proposed set is
// open for their opinions until closes; published again with another
// closing instant, it tells them again.
func notifyOpinionsOpened(ctx context.Context, tx *gorm.DB, s *Stage, closes time.Time, now time.Time) error {
	to, err := stageTeamsAudience(ctx, tx, s, nil)
	if err != nil {
		return err
	}
	return Notify(ctx, tx, now, Notification{Kind: NotifyOpinionOpened, To: to, Link: fmt.Sprintf("/stages/%d/team", s.ID),
		Key:    fmt.Sprintf("stage:%d:opinions:%d", s.ID, closes.Unix()),
		Params: map[string]string{"stage": s.NameKO, "closes": kstSecond(closes)}})
}

// notifyAudited tells the team that an auditor returned its report (with
// the note) or signed it off. A report is returned once per submission.
func notifyAudited(ctx context.Context, tx *gorm.DB, r *UsageReport, action, note string, now time.Time) error {
	switch action {
	case ReportActionReturn:
		submitted := int64(0)
		if r.SubmittedAt != nil {
			submitted = r.SubmittedAt.Unix()
		}
		return notifyReport(ctx, tx, NotifyReportReturned, fmt.Sprintf("report:%d:returned:%d", r.ID, submitted), r, nil,
			map[string]string{"note": note}, now)
	case ReportActionSignOff:
		return notifyReport(ctx, tx, NotifyReportSignedOff, fmt.Sprintf("report:%d:signed_off", r.ID), r, nil,
			map[string]string{"signed": kstSecond(now)}, now)
	}
	return nil
}
