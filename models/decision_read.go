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
