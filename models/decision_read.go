package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// DecisionRead is what the public page of a decision shows to a user.
type DecisionRead struct {
	Decision *Decision // with its entries in rank order and its publisher
	Call     *Call
	// Window is the appeal window, with every move of its closing instant
	// a holiday change caused; WindowErr says why it could not be worked
	// out (the page says so rather than failing).
	Window      Window
	WindowMoves []WindowChange
	WindowErr   error
	Stats       AppealStats      // public counts of its appeals
	Standing    DecisionStanding // under re-review, or corrected
	// For a company user whose organisation the decision ranked: its own
	// entry, its own appeals, and whether the appeal rules let it file one
	// now (CheckAppealable).
	Own        *DecisionEntry
	OwnAppeals []Appeal
	CanAppeal  bool
}

// ReadDecision loads a published decision as its public page shows it to u
// (nil: signed out) at now.
func ReadDecision(ctx context.Context, db *gorm.DB, id uint, u *User, now time.Time) (*DecisionRead, error) {
	d, err := GetDecision(ctx, db, id)
	if err != nil {
		return nil, err
	}
	r := &DecisionRead{Decision: d}
	if r.Call, err = GetCall(ctx, db, d.CallID); err != nil {
		return nil, err
	}
	r.Window, r.WindowMoves, r.WindowErr = DecisionWindowHistory(ctx, db, d, now)
	if r.Stats, err = DecisionAppealStats(ctx, db, d.ID); err != nil {
		return nil, err
	}
	if r.Standing, err = StandingOf(ctx, db, d); err != nil {
		return nil, err
	}
	if u == nil || u.Role != RoleCompany || u.OrganisationID == nil {
		return r, nil
	}
	e, ok := d.Entry(*u.OrganisationID)
	if !ok {
		return r, nil
	}
	r.Own = &e
	if r.OwnAppeals, err = ListAppeals(ctx, db, AppealFilter{DecisionID: d.ID, OrganisationID: *u.OrganisationID}); err != nil {
		return nil, err
	}
	_, refusal := CheckAppealable(ctx, db, d, *u.OrganisationID, now)
	r.CanAppeal = refusal == nil
	return r, nil
}

// CallRanking is what the ranking page shows of a call: the ranking by
// weighted score with the applications, the submitted applications still
// without a reviewer, the current selection and whether it is being
// corrected after an upheld appeal.
type CallRanking struct {
	Ranking    []Ranked
	Apps       map[uint]*Application
	Pending    int64
	Decision   *Decision
	Correcting bool
	// Texts are the notice's generated parts for the civil counting rule and
	// no explicit close, when there is a selection to publish (none yet, or
	// a correction); Proposed is the selection the form proposes: the ranks
	// within the slots that have a reviewer's scores.
	Texts    NoticeTexts
	Proposed []uint
}

// ReadCallRanking reads the ranking page of a call at now.
func ReadCallRanking(ctx context.Context, db *gorm.DB, call *Call, now time.Time) (*CallRanking, error) {
	sheets, err := LoadScoreSheets(ctx, db, call)
	if err != nil {
		return nil, err
	}
	r := &CallRanking{Ranking: RankApplications(call.Criteria, sheets)}
	ids := make([]uint, len(r.Ranking))
	for i, x := range r.Ranking {
		ids[i] = x.ApplicationID
		if x.Rank <= call.Slots && x.Reviewers > 0 {
			r.Proposed = append(r.Proposed, x.ApplicationID)
		}
	}
	if r.Apps, err = GetApplications(ctx, db, ids); err != nil {
		return nil, err
	}
	if _, r.Pending, err = ListApplications(ctx, db, ApplicationFilter{CallID: call.ID, Status: StatusSubmitted, Limit: 1}); err != nil {
		return nil, err
	}
	if r.Decision, err = CurrentSelection(ctx, db, call.ID); err != nil {
		return nil, err
	}
	if r.Decision != nil {
		st, err := StandingOf(ctx, db, r.Decision)
		if err != nil {
			return nil, err
		}
		r.Correcting = st.UnderReReview
	}
	if r.Decision == nil || r.Correcting {
		if r.Texts, err = NoticeTextsFor(ctx, db, call, RuleCivil, nil, now); err != nil {
			return nil, err
		}
	}
	return r, nil
}
