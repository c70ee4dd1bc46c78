package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AppealStatus is where an objection (이의신청) stands.
type AppealStatus string

// Appeal statuses.
const (
	AppealReceived    AppealStatus = "received"
	AppealUnderReview AppealStatus = "under_review"
	AppealUpheld      AppealStatus = "upheld"
	AppealDismissed   AppealStatus = "dismissed"
)

// AppealStatuses lists every status in the order of the life cycle.
var AppealStatuses = []AppealStatus{AppealReceived, AppealUnderReview, AppealUpheld, AppealDismissed}

// Decided reports whether the appeal has its answer.
func (s AppealStatus) Decided() bool { return s == AppealUpheld || s == AppealDismissed }

// AppealGround is why the organisation objects.
type AppealGround string

// Grounds of an appeal.
const (
	GroundProceduralDefect   AppealGround = "procedural_defect" // 평가 절차의 중대한 하자
	GroundScoringError       AppealGround = "scoring_error"
	GroundConflictOfInterest AppealGround = "conflict_of_interest"
	GroundOther              AppealGround = "other"
)

// AppealGrounds lists every ground.
var AppealGrounds = []AppealGround{GroundProceduralDefect, GroundScoringError, GroundConflictOfInterest, GroundOther}

// Valid reports whether g is a known ground.
func (g AppealGround) Valid() bool {
	for _, v := range AppealGrounds {
		if g == v {
			return true
		}
	}
	return false
}

// AppealAction is an officer's step on an appeal.
type AppealAction string

// Appeal actions.
const (
	AppealStartReview AppealAction = "start_review"
	AppealUphold      AppealAction = "uphold"
	AppealDismiss     AppealAction = "dismiss"
)

// appealTransitions: received → under_review → upheld | dismissed, by the ministry only.
var appealTransitions = map[AppealStatus]map[AppealAction]AppealStatus{
	AppealReceived:    {AppealStartReview: AppealUnderReview},
	AppealUnderReview: {AppealUphold: AppealUpheld, AppealDismiss: AppealDismissed},
}

// NextAppealStatus applies the appeal state machine.
func NextAppealStatus(from AppealStatus, action AppealAction, role Role) (AppealStatus, error) {
	if !role.IsMinistry() {
		return from, fmt.Errorf("appeal %s by %s: %w", action, role, ErrForbidden)
	}
	to, ok := appealTransitions[from][action]
	if !ok {
		return from, fmt.Errorf("appeal %s → %s: %w", from, action, ErrInvalidTransition)
	}
	return to, nil
}

// ErrAppealWindowClosed is returned for a filing outside the window.
var ErrAppealWindowClosed = errors.New("the appeal window is closed")

// ErrDecisionSuperseded is returned for an appeal against a decision that a
// correction has replaced: only the decision that now stands can be
// appealed against.
var ErrDecisionSuperseded = errors.New("the decision has been corrected")

// DecisionSupersededError names the corrected decision and the one that now
// stands (the latest in the chain of corrections).
type DecisionSupersededError struct {
	Decision uint
	Standing *Decision
}

func (e *DecisionSupersededError) Error() string {
	return fmt.Sprintf("decision %d has been corrected; decision %d stands", e.Decision, e.Standing.ID)
}

// Is makes errors.Is(err, ErrDecisionSuperseded) true.
func (e *DecisionSupersededError) Is(target error) bool { return target == ErrDecisionSuperseded }

// maxCorrections bounds the walk along a chain of corrections.
const maxCorrections = 100

// StandingDecision follows the chain of corrections from d to the decision
// that now stands: d itself when nothing corrects it.
func StandingDecision(ctx context.Context, db *gorm.DB, d *Decision) (*Decision, error) {
	cur := d
	for range maxCorrections {
		var next Decision
		err := db.WithContext(ctx).Where("supersedes_id = ?", cur.ID).Order("id").First(&next).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return cur, nil
		case err != nil:
			return nil, fmt.Errorf("store: standing decision of %d: %w", d.ID, err)
		}
		cur = &next
	}
	return nil, fmt.Errorf("store: standing decision of %d: more than %d corrections", d.ID, maxCorrections)
}

// CheckAppealable applies the rules that decide whether the organisation may
// appeal against d at now, the typed input aside: the decision must concern
// it (ErrForbidden), must not have been corrected (a
// *DecisionSupersededError naming the decision that stands) and its window
// must be open (an *AppealWindowClosedError). The window is returned
// whenever it could be computed, also with a refusal.
func CheckAppealable(ctx context.Context, db *gorm.DB, d *Decision, orgID uint, now time.Time) (Window, error) {
	if _, ok := d.Entry(orgID); !ok {
		return Window{}, fmt.Errorf("store: appeal: decision %d does not concern organisation %d: %w", d.ID, orgID, ErrForbidden)
	}
	w, err := DecisionWindow(ctx, db, d, now)
	if err != nil {
		return Window{}, err
	}
	standing, err := StandingDecision(ctx, db, d)
	if err != nil {
		return w, err
	}
	if standing.ID != d.ID {
		return w, &DecisionSupersededError{Decision: d.ID, Standing: standing}
	}
	if !w.IsOpen(now) {
		return w, &AppealWindowClosedError{Closes: w.Closes}
	}
	return w, nil
}

// AppealWindowClosedError carries the closing instant for the message.
type AppealWindowClosedError struct{ Closes time.Time }

func (e *AppealWindowClosedError) Error() string {
	return "the appeal window closed at " + e.Closes.In(KST).Format("2006-01-02 15:04:05 KST")
}

// Is makes errors.Is(err, ErrAppealWindowClosed) true.
func (e *AppealWindowClosedError) Is(target error) bool { return target == ErrAppealWindowClosed }

// Appeal is an objection by an organisation a decision concerns.
type Appeal struct {
	ID             uint         `gorm:"primaryKey"`
	DecisionID     uint         `gorm:"not null;index"`
	Decision       Decision     `gorm:"constraint:OnDelete:RESTRICT"`
	OrganisationID uint         `gorm:"not null;index;uniqueIndex:idx_appeal_idem"`
	Organisation   Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	FiledByID      uint         `gorm:"not null"`
	FiledBy        User         `gorm:"constraint:OnDelete:RESTRICT"`
	Ground         AppealGround `gorm:"size:32;not null"`
	Statement      string       `gorm:"type:text;not null"`
	Status         AppealStatus `gorm:"size:16;not null;index"`
	Receipt        string       `gorm:"size:40;not null;uniqueIndex"`
	IdempotencyKey string       `gorm:"size:64;not null;uniqueIndex:idx_appeal_idem"`
	FiledAt        time.Time    `gorm:"not null"`
	AnswerBy       time.Time    `gorm:"not null"`
	ReviewedAt     *time.Time
	DecidedAt      *time.Time
	DecidedByID    *uint
	Reasons        string           `gorm:"type:text"`
	Evidence       []AppealEvidence `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// RemediesKO and RemediesEN are the statement of further remedies given
	// with the answer (the call's, as it stood when the appeal was decided).
	RemediesKO string `gorm:"type:text;not null;default:''"`
	RemediesEN string `gorm:"type:text;not null;default:''"`
}

// AppealEvidence is a file attached to an appeal.
type AppealEvidence struct {
	ID       uint       `gorm:"primaryKey"`
	AppealID uint       `gorm:"not null;index"`
	FileID   uint       `gorm:"not null"`
	File     StoredFile `gorm:"constraint:OnDelete:RESTRICT"`
}

// Overdue reports whether the ministry's answer is late at now.
func (a *Appeal) Overdue(now time.Time) bool {
	return !a.Status.Decided() && !now.Before(a.AnswerBy)
}

// MaySee reports whether a user may read the appeal: whoever may see the
// appellant organisation's data (User.MaySeeOrganisation).
func (a *Appeal) MaySee(u *User) bool { return u.MaySeeOrganisation(a.OrganisationID) }

// AppealInput is what the appellant typed.
type AppealInput struct {
	DecisionID     uint
	Ground         AppealGround
	Statement      string
	IdempotencyKey string
}

// Validate checks the typed fields.
func (in AppealInput) Validate() FieldErrors {
	errs := FieldErrors{}
	if !in.Ground.Valid() {
		errs.Add("ground", "appeal.error.ground")
	}
	st := strings.TrimSpace(in.Statement)
	if st == "" {
		errs.Add("statement", "form.required")
	}
	errs.CheckText("statement", st, MaxAppealStatement, MultiLine)
	if !validIdempotencyKey(in.IdempotencyKey) {
		errs.Add("idempotency_key", "appeal.error.form_expired")
	}
	return errs
}

// validIdempotencyKey accepts a key of 16 to 64 bytes that passes the
// text rule, so that a tampered key never reaches a query it would break.
func validIdempotencyKey(k string) bool {
	return len(k) >= 16 && len(k) <= MaxIdempotencyKey && CheckText(k, MaxIdempotencyKey, SingleLine) == ""
}

// ValidateAppealReasons checks the reasons an officer writes when upholding
// or dismissing an appeal: the appellant reads them.
func ValidateAppealReasons(reasons string) FieldErrors {
	errs := FieldErrors{}
	reasons = strings.TrimSpace(reasons)
	if reasons == "" {
		errs.Add("reasons", "appeal.error.reasons")
	}
	errs.CheckText("reasons", reasons, MaxAppealReasons, MultiLine)
	return errs
}

// AppealReceipt is the receipt number of a filing.
func AppealReceipt(id uint, at time.Time) string {
	return fmt.Sprintf("KAI-APL-%s-%05d", at.In(KST).Format("20060102"), id)
}

// pendingReceipt is the receipt an appeal holds between its insert and the
// update that gives it its number (it has no ID before): unique per
// organisation and key, and always within the column's 40 characters,
// whatever the length of the key (up to 64).
func pendingReceipt(orgID uint, key string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s", orgID, key))
	return "pending-" + hex.EncodeToString(sum[:16])
}

// DecideAppeal moves an appeal through the state machine. Upholding or
// dismissing needs written reasons, which the appellant reads.
func DecideAppeal(ctx context.Context, db *gorm.DB, id uint, action AppealAction, reasons string, by *User, now time.Time) error {
	reasons = strings.TrimSpace(reasons)
	if (action == AppealUphold || action == AppealDismiss) && ValidateAppealReasons(reasons).Any() {
		return fmt.Errorf("store: decide appeal %d: reasons are missing or unusable: %w", id, ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a Appeal
		if err := tx.First(&a, id).Error; err != nil {
			return notFound(fmt.Sprintf("store: appeal %d", id), err)
		}
		to, err := NextAppealStatus(a.Status, action, by.Role)
		if err != nil {
			return err
		}
		at := now.UTC()
		updates := map[string]any{"status": to, "updated_at": at}
		var d Decision
		if action == AppealStartReview {
			updates["reviewed_at"] = at
		} else {
			updates["decided_at"] = at
			updates["decided_by_id"] = by.ID
			updates["reasons"] = reasons
			if err := tx.Preload("Call").First(&d, a.DecisionID).Error; err != nil {
				return notFound(fmt.Sprintf("store: decide appeal %d: decision %d", id, a.DecisionID), err)
			}
			updates["remedies_ko"], updates["remedies_en"] = d.Call.Remedies()
		}
		res := tx.Model(&Appeal{}).Where("id = ? AND status = ?", a.ID, a.Status).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("store: decide appeal %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: decide appeal %d: changed meanwhile: %w", id, ErrConflict)
		}
		if to.Decided() {
			if err := notifyAppealAnswered(ctx, tx, &d, &a, to, now); err != nil {
				return err
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), "appeal."+string(action), "appeal", fmt.Sprint(a.ID),
			fmt.Sprintf("%s → %s", a.Status, to), now)
	})
}

// GetAppeal loads an appeal with its decision, organisation and evidence.
func GetAppeal(ctx context.Context, db *gorm.DB, id uint) (*Appeal, error) {
	var a Appeal
	err := db.WithContext(ctx).Preload("Decision.Call").Preload("Organisation").Preload("FiledBy").
		Preload("Evidence.File").First(&a, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: appeal %d", id), err)
	}
	return &a, nil
}

// AppealFilter narrows the list of appeals.
type AppealFilter struct {
	DecisionID     uint
	OrganisationID uint
	Status         AppealStatus
}

// ListAppeals returns appeals, oldest first (the order they are answered in).
func ListAppeals(ctx context.Context, db *gorm.DB, f AppealFilter) ([]Appeal, error) {
	q := db.WithContext(ctx).Preload("Organisation").Preload("Decision.Call")
	if f.DecisionID != 0 {
		q = q.Where("decision_id = ?", f.DecisionID)
	}
	if f.OrganisationID != 0 {
		q = q.Where("organisation_id = ?", f.OrganisationID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var out []Appeal
	if err := q.Order("filed_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list appeals: %w", err)
	}
	return out, nil
}

// AppealStats are the public counts of a decision's appeals (no contents).
type AppealStats struct {
	Filed, Upheld, Dismissed, Pending int
}

// DecisionAppealStats counts a decision's appeals by outcome.
func DecisionAppealStats(ctx context.Context, db *gorm.DB, decisionID uint) (AppealStats, error) {
	var rows []struct {
		Status AppealStatus
		N      int
	}
	err := db.WithContext(ctx).Model(&Appeal{}).Select("status, COUNT(*) AS n").
		Where("decision_id = ?", decisionID).Group("status").Scan(&rows).Error
	if err != nil {
		return AppealStats{}, fmt.Errorf("store: appeal stats: %w", err)
	}
	var s AppealStats
	for _, r := range rows {
		s.Filed += r.N
		switch r.Status {
		case AppealUpheld:
			s.Upheld += r.N
		case AppealDismissed:
			s.Dismissed += r.N
		default:
			s.Pending += r.N
		}
	}
	return s, nil
}

// DecisionStanding is what the public page says of a decision.
type DecisionStanding struct {
	UnderReReview bool      // an appeal was upheld and no corrected decision is out yet
	SupersededBy  *Decision // the corrected decision, once published
}

// StandingOf works out whether a decision is under re-review or superseded.
func StandingOf(ctx context.Context, db *gorm.DB, d *Decision) (DecisionStanding, error) {
	var st DecisionStanding
	var next Decision
	err := db.WithContext(ctx).Where("supersedes_id = ?", d.ID).First(&next).Error
	switch {
	case err == nil:
		st.SupersededBy = &next
		return st, nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return st, fmt.Errorf("store: decision standing: %w", err)
	}
	var upheld int64
	if err := db.WithContext(ctx).Model(&Appeal{}).Where("decision_id = ? AND status = ?", d.ID, AppealUpheld).
		Count(&upheld).Error; err != nil {
		return st, fmt.Errorf("store: decision standing: %w", err)
	}
	st.UnderReReview = upheld > 0
	return st, nil
}
