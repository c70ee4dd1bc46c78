package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// StageDecisionInput is what the officer confirms when publishing a
// stage's decision.
type StageDecisionInput struct {
	StageID      uint
	NoticeKO     string
	NoticeEN     string
	CountingRule CountingRule
}

// stageCall is the call whose selection the stage's teams came from: the
// decision's call, so that the appeal pages and the notice's statement of
// remedies are the selection's.
func stageCall(ctx context.Context, tx *gorm.DB, teams []StageTeam) (*Call, error) {
	if len(teams) == 0 {
		return nil, fmt.Errorf("store: stage decision: no team: %w", ErrInvalid)
	}
	var a Agreement
	if err := tx.Preload("Application").Where("organisation_id = ? AND in_force_id IS NOT NULL", teams[0].Organisation.ID).
		Order("id DESC").Take(&a).Error; err != nil {
		return nil, fmt.Errorf("store: stage decision: agreement: %w", err)
	}
	return GetCall(ctx, tx, a.Application.CallID)
}

// PublishStageDecision publishes the stage's decision: the ranking of its
// frozen set, every team scored on every criterion, the last Eliminate
// teams eliminated. It is a Decision of kind stage, so it opens the appeal
// window as a selection does (DecisionWindow) and is appealed on the same
// pages. A stage whose decision was corrected after an upheld appeal is
// published again as a correction (the decision it supersedes).
func PublishStageDecision(ctx context.Context, db *gorm.DB, in StageDecisionInput, by *User, now time.Time) (*Decision, FieldErrors, error) {
	if err := ministryOnly(by, "publish stage decision"); err != nil {
		return nil, nil, err
	}
	var d *Decision
	errs := FieldErrors{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := lockStage(ctx, tx, in.StageID, now)
		if err != nil {
			return err
		}
		var supersedes *uint
		if s.DecisionID != nil {
			prev, err := GetDecision(ctx, tx, *s.DecisionID)
			if err != nil {
				return err
			}
			st, err := StandingOf(ctx, tx, prev)
			if err != nil {
				return err
			}
			if !st.UnderReReview || s.FinalAt != nil {
				return fmt.Errorf("store: stage %d already has a decision: %w", s.ID, ErrConflict)
			}
			supersedes = &prev.ID
		}
		if !s.Frozen() {
			errs.Add("decision", "stage.error.not_frozen")
		}
		if strings.TrimSpace(in.NoticeKO) == "" {
			errs.Add("notice_ko", "form.required")
		}
		if strings.TrimSpace(in.NoticeEN) == "" {
			errs.Add("notice_en", "form.required")
		}
		errs.CheckText("notice_ko", in.NoticeKO, MaxNotice, MultiLine)
		errs.CheckText("notice_en", in.NoticeEN, MaxNotice, MultiLine)
		if !in.CountingRule.Valid() {
			errs.Add("counting_rule", "decision.error.rule")
		}
		st, err := RankStageTeams(ctx, tx, s)
		if err != nil {
			return err
		}
		if len(st.Ranking) == 0 {
			errs.Add("decision", "stage.error.no_teams")
		}
		for _, r := range st.Ranking {
			if r.Missing > 0 {
				errs.Add("decision", "stage.error.incomplete")
			}
		}
		if s.Eliminate >= len(st.Ranking) && len(st.Ranking) > 0 {
			errs.Add("decision", "stage.error.eliminate_all")
		}
		if errs.Any() {
			return fmt.Errorf("store: publish stage decision: %w", ErrInvalid)
		}
		teams := make([]StageTeam, 0, len(st.Ranking))
		for _, r := range st.Ranking {
			teams = append(teams, st.Teams[r.OrganisationID])
		}
		call, err := stageCall(ctx, tx, teams)
		if err != nil {
			return err
		}
		texts, err := NoticeTextsFor(ctx, tx, call, in.CountingRule, nil, now)
		if err != nil {
			return fmt.Errorf("store: publish stage decision: %w: %w", ErrInvalid, err)
		}
		d = &Decision{CallID: call.ID, Kind: DecisionStage, NoticeKO: strings.TrimSpace(in.NoticeKO),
			NoticeEN: strings.TrimSpace(in.NoticeEN), CountingRule: in.CountingRule, TieBreak: StageTieBreakRule,
			PublishedByID: by.ID, PublishedAt: now.UTC().Truncate(time.Microsecond), SupersedesID: supersedes,
			WindowNoticeKO: texts.WindowKO, WindowNoticeEN: texts.WindowEN, RemediesKO: texts.RemediesKO,
			RemediesEN: texts.RemediesEN, HashVersion: hashVersion}
		for _, r := range st.Ranking {
			var a Agreement
			if err := tx.Preload("Application.Members.Organisation").Where("organisation_id = ? AND in_force_id IS NOT NULL", r.OrganisationID).
				Order("id DESC").Take(&a).Error; err != nil {
				return fmt.Errorf("store: publish stage decision: agreement of %d: %w", r.OrganisationID, err)
			}
			o := st.Teams[r.OrganisationID].Organisation
			d.Entries = append(d.Entries, DecisionEntry{Rank: r.Rank, ApplicationID: a.ApplicationID, OrganisationID: o.ID,
				NameKO: o.NameKO, NameEN: o.NameEN, Members: memberNames(a.Application.Members), Score: r.Total, Selected: !r.Eliminated})
		}
		d.ContentHash = d.hash()
		if err := tx.Omit("Call", "PublishedBy").Create(d).Error; err != nil {
			return fmt.Errorf("store: publish stage decision: %w", err)
		}
		if err := tx.Model(&Stage{}).Where("id = ?", s.ID).Update("decision_id", d.ID).Error; err != nil {
			return err
		}
		if err := notifyDecision(ctx, tx, d, s.NameKO, now); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "decision.publish", "decision", fmt.Sprint(d.ID),
			fmt.Sprintf("stage %d (%s): %d ranked, %d eliminated; sha256 %s", s.ID, s.NameKO, len(d.Entries), s.Eliminate, d.ContentHash), now)
	})
	if err != nil {
		return nil, errs, err
	}
	return d, nil, nil
}

// StageFinality is whether a stage's decision is final at an instant: its
// appeal window has closed, no appeal is pending and none was upheld.
type StageFinality struct {
	Window    Window
	Final     bool
	Pending   int  // appeals not yet answered
	Upheld    bool // an appeal was upheld: the decision is under re-review
	FinalAt   time.Time
	Effective Date // the first day the eliminated teams no longer hold
}

// CheckStageFinality applies the rule to the stage's decision d at now.
func CheckStageFinality(ctx context.Context, db *gorm.DB, d *Decision, now time.Time) (StageFinality, error) {
	var f StageFinality
	w, err := DecisionWindow(ctx, db, d, now)
	if err != nil {
		return f, err
	}
	f.Window = w
	var appeals []Appeal
	if err := db.WithContext(ctx).Where("decision_id = ?", d.ID).Find(&appeals).Error; err != nil {
		return f, err
	}
	f.FinalAt = w.Closes
	for _, a := range appeals {
		switch {
		case a.Status == AppealUpheld:
			f.Upheld = true
		case !a.Status.Decided():
			f.Pending++
		case a.DecidedAt != nil && a.DecidedAt.After(f.FinalAt):
			f.FinalAt = *a.DecidedAt
		}
	}
	var superseded int64
	if err := db.WithContext(ctx).Model(&Decision{}).Where("supersedes_id = ?", d.ID).Count(&superseded).Error; err != nil {
		return f, err
	}
	f.Final = !now.Before(w.Closes) && f.Pending == 0 && !f.Upheld && superseded == 0
	f.Effective = DateOf(f.FinalAt)
	if !f.FinalAt.In(KST).Equal(f.Effective.Start()) {
		f.Effective = f.Effective.AddDays(1)
	}
	return f, nil
}

// FinaliseStageDecisions ends the standing of the teams eliminated by
// every stage decision that has become final at now: each eliminated
// team's agreement is terminated, its names end and its GPU allocations
// end from the effective day (EndTeamStanding), each in the audit trail.
// It runs exactly once per stage: the stage's FinalAt is claimed by a
// conditional update in the same transaction, so that concurrent runs (the
// background loop of several portal instances) end nothing twice. It
// returns the number of stages finalised.
func FinaliseStageDecisions(ctx context.Context, db *gorm.DB, now time.Time) (int, error) {
	var due []Stage
	if err := db.WithContext(ctx).Where("decision_id IS NOT NULL AND final_at IS NULL").Order("id").Find(&due).Error; err != nil {
		return 0, fmt.Errorf("store: stages due: %w", err)
	}
	n := 0
	for _, s := range due {
		done, err := finaliseStage(ctx, db, s.ID, now)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

func finaliseStage(ctx context.Context, db *gorm.DB, stageID uint, now time.Time) (bool, error) {
	done := false
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var s Stage
		if err := tx.First(&s, stageID).Error; err != nil {
			return err
		}
		if s.DecisionID == nil || s.FinalAt != nil {
			return nil
		}
		d, err := GetDecision(ctx, tx, *s.DecisionID)
		if err != nil {
			return err
		}
		f, err := CheckStageFinality(ctx, tx, d, now)
		if err != nil || !f.Final {
			return err
		}
		res := tx.Model(&Stage{}).Where("id = ? AND final_at IS NULL AND decision_id = ?", s.ID, d.ID).
			Updates(map[string]any{"final_at": now.UTC(), "updated_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // another run finalised it
		}
		var ending []uint
		for _, e := range d.Entries {
			if !e.Selected {
				ending = append(ending, e.OrganisationID)
			}
		}
		if err := lockTeamAgreements(ctx, tx, ending); err != nil {
			return err
		}
		var names []string
		for _, e := range d.Entries {
			if e.Selected {
				continue
			}
			reason := fmt.Sprintf("%s 탈락 확정 (eliminated at %s, decision %d final)", s.NameKO, s.NameEN, d.ID)
			if err := EndTeamStanding(ctx, tx, e.OrganisationID, reason, f.Effective); err != nil {
				return err
			}
			names = append(names, e.NameKO)
		}
		done = true
		return RecordAudit(ctx, tx, ActorOf(nil), "stage.final", "stage", fmt.Sprint(s.ID),
			fmt.Sprintf("decision %d final; eliminated from %s: %s", d.ID, f.Effective, strings.Join(names, ", ")), now)
	})
	if err != nil {
		return false, fmt.Errorf("store: finalise stage %d: %w", stageID, err)
	}
	return done, nil
}

// StageDecisionOf returns the stage whose decision (or a correction of
// whose decision) d is, or nil.
func StageDecisionOf(ctx context.Context, db *gorm.DB, decisionID uint) (*Stage, error) {
	var s Stage
	err := db.WithContext(ctx).Where("decision_id = ?", decisionID).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &s, err
}
