package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Conflict-of-interest declarations of a reviewer.
const (
	ConflictUndeclared = ""
	ConflictNone       = "none"    // declares no conflict with the applicant
	ConflictRecused    = "recused" // has a conflict and takes no part
)

// ReviewAssignment makes a reviewer (an officer, or an external evaluator:
// User.MayReview) a reviewer of one application.
type ReviewAssignment struct {
	ID            uint   `gorm:"primaryKey"`
	ApplicationID uint   `gorm:"not null;uniqueIndex:idx_review_app_reviewer"`
	ReviewerID    uint   `gorm:"not null;uniqueIndex:idx_review_app_reviewer;index"`
	Reviewer      User   `gorm:"constraint:OnDelete:RESTRICT"`
	Conflict      string `gorm:"size:16;not null;default:''"`
	DeclaredAt    *time.Time
	Scores        []Score `gorm:"foreignKey:AssignmentID;constraint:OnDelete:CASCADE"`
	CreatedAt     time.Time
	// DueOn is the last day (KST, 2006-01-02) by which the reviewer is to
	// have declared and scored: set by the officer when assigning, else
	// DefaultReviewDue.
	DueOn string `gorm:"size:10;not null;default:''"`
}

// Score is one reviewer's score of one criterion, with a comment. Each
// reviewer writes only their own rows, so two reviewers saving at once
// both keep their scores.
type Score struct {
	ID           uint    `gorm:"primaryKey"`
	AssignmentID uint    `gorm:"not null;uniqueIndex:idx_score_assignment_criterion"`
	CriterionID  uint    `gorm:"not null;uniqueIndex:idx_score_assignment_criterion"`
	Value        float64 `gorm:"not null"`
	Comment      string  `gorm:"type:text"`
	UpdatedAt    time.Time
}

// Errors of reviewing.
var (
	ErrNotAssigned       = errors.New("not a reviewer of this application")
	ErrConflictNotStated = errors.New("declare a conflict of interest (or none) before scoring")
	ErrRecused           = errors.New("a recused reviewer does not score")
)

// AssignReviewer makes a user who may review (User.MayReview: an officer
// or an external evaluator) review an application; moves a submitted
// application under review (the call must be closed).
func AssignReviewer(ctx context.Context, db *gorm.DB, appID, reviewerID uint, by *User, now time.Time) error {
	return AssignReviewerDue(ctx, db, appID, reviewerID, "", by, now)
}

// AssignReviewerDue is AssignReviewer with the day the review is due
// ("": DefaultReviewDue of the call); a due day that is not a date from
// today on is ErrInvalidDue.
func AssignReviewerDue(ctx context.Context, db *gorm.DB, appID, reviewerID uint, due string, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rev User
		if err := tx.First(&rev, reviewerID).Error; err != nil {
			return notFound("store: assign reviewer", err)
		}
		if !rev.MayReview() {
			return fmt.Errorf("store: assign reviewer: %s may not review: %w", rev.DisplayName(), ErrInvalid)
		}
		var a Application
		if err := tx.First(&a, appID).Error; err != nil {
			return notFound("store: assign reviewer", err)
		}
		call, err := GetCall(ctx, tx, a.CallID)
		if err != nil {
			return err
		}
		if a.Status == StatusSubmitted {
			to, err := NextStatus(a.Status, ActStartReview, by.Role, call, now)
			if err != nil {
				return err
			}
			if err := tx.Model(&Application{}).Where("id = ? AND status = ?", a.ID, a.Status).
				Updates(map[string]any{"status": to, "version": a.Version + 1, "updated_at": now.UTC()}).Error; err != nil {
				return fmt.Errorf("store: start review: %w", err)
			}
		} else if a.Status != StatusUnderReview {
			return fmt.Errorf("store: assign reviewer to a %s application: %w", a.Status, ErrInvalidTransition)
		}
		recs, err := LoadHolidayRecords(ctx, tx)
		if err != nil {
			return err
		}
		dueOn, err := ParseDue(due, DefaultReviewDue(call, recs.At(now)), now)
		if err != nil {
			return err
		}
		as := ReviewAssignment{ApplicationID: appID, ReviewerID: reviewerID, CreatedAt: now.UTC(), DueOn: dayText(dueOn)}
		if err := tx.Create(&as).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("store: assign reviewer: already assigned: %w", ErrConflict)
			}
			return fmt.Errorf("store: assign reviewer: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "review.assign", "application", fmt.Sprint(appID),
			fmt.Sprintf("reviewer: %s (%s), due %s", rev.DisplayName(), rev.Role, dueOn), now)
	})
}

// DeclareConflict records the reviewer's conflict-of-interest statement.
// It is made once; a recusal cannot be taken back.
func DeclareConflict(ctx context.Context, db *gorm.DB, assignmentID uint, conflict string, by *User, now time.Time) error {
	if conflict != ConflictNone && conflict != ConflictRecused {
		return fmt.Errorf("store: declare conflict %q: %w", conflict, ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var as ReviewAssignment
		if err := tx.First(&as, assignmentID).Error; err != nil {
			return notFound("store: declare conflict", err)
		}
		if by == nil || as.ReviewerID != by.ID {
			return fmt.Errorf("store: declare conflict: %w", ErrNotAssigned)
		}
		if as.Conflict != ConflictUndeclared {
			return fmt.Errorf("store: declare conflict: already declared %q: %w", as.Conflict, ErrInvalidTransition)
		}
		at := now.UTC()
		if err := tx.Model(&as).Updates(map[string]any{"conflict": conflict, "declared_at": at}).Error; err != nil {
			return fmt.Errorf("store: declare conflict: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "review.conflict", "application", fmt.Sprint(as.ApplicationID),
			"conflict of interest: "+conflict, now)
	})
}

// ScoreInput is one criterion's score as a reviewer typed it.
type ScoreInput struct {
	CriterionID uint
	Value       float64
	Comment     string
}

// ValidateScores checks scores against the call's criteria: every criterion
// scored, within 0..MaxScore, with a comment.
func ValidateScores(criteria []Criterion, in []ScoreInput) FieldErrors {
	errs := FieldErrors{}
	byID := map[uint]ScoreInput{}
	for _, s := range in {
		byID[s.CriterionID] = s
	}
	for _, c := range criteria {
		field := fmt.Sprintf("score.%d", c.ID)
		s, ok := byID[c.ID]
		switch {
		case !ok:
			errs.Add(field, "form.required")
		case math.IsNaN(s.Value) || s.Value < 0 || s.Value > float64(c.MaxScore):
			errs.Add(field, "review.error.range")
		case strings.TrimSpace(s.Comment) == "":
			errs.Add(field, "review.error.comment")
		default:
			errs.CheckText(field, s.Comment, MaxScoreComment, MultiLine)
		}
	}
	for _, s := range in {
		found := false
		for _, c := range criteria {
			found = found || c.ID == s.CriterionID
		}
		if !found {
			errs.Add("scores", "review.error.unknown_criterion")
		}
	}
	return errs
}

// SaveScores upserts the reviewer's own scores for the application.
func SaveScores(ctx context.Context, db *gorm.DB, assignmentID uint, in []ScoreInput, by *User, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var as ReviewAssignment
		if err := tx.First(&as, assignmentID).Error; err != nil {
			return notFound("store: save scores", err)
		}
		if by == nil || as.ReviewerID != by.ID {
			return fmt.Errorf("store: save scores: %w", ErrNotAssigned)
		}
		switch as.Conflict {
		case ConflictUndeclared:
			return fmt.Errorf("store: save scores: %w", ErrConflictNotStated)
		case ConflictRecused:
			return fmt.Errorf("store: save scores: %w", ErrRecused)
		}
		var a Application
		if err := tx.First(&a, as.ApplicationID).Error; err != nil {
			return notFound("store: save scores", err)
		}
		if a.Status != StatusUnderReview {
			return fmt.Errorf("store: save scores on a %s application: %w", a.Status, ErrInvalidTransition)
		}
		call, err := GetCall(ctx, tx, a.CallID)
		if err != nil {
			return err
		}
		if errs := ValidateScores(call.Criteria, in); errs.Any() {
			return fmt.Errorf("store: save scores: %w", ErrInvalid)
		}
		for _, s := range in {
			row := Score{AssignmentID: as.ID, CriterionID: s.CriterionID, Value: s.Value,
				Comment: strings.TrimSpace(s.Comment), UpdatedAt: now.UTC()}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "assignment_id"}, {Name: "criterion_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "comment", "updated_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("store: save score: %w", err)
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), "review.score", "application", fmt.Sprint(a.ID),
			fmt.Sprintf("%d criteria scored", len(in)), now)
	})
}

// ListAssignments returns the reviewers of an application with their scores.
func ListAssignments(ctx context.Context, db *gorm.DB, appID uint) ([]ReviewAssignment, error) {
	var out []ReviewAssignment
	err := db.WithContext(ctx).Preload("Reviewer").Preload("Scores").Where("application_id = ?", appID).
		Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", err)
	}
	return out, nil
}

// AssignmentsFor returns the reviewers of each of the applications, with
// their scores, as ListAssignments does for one, in three queries whatever
// the number of applications.
func AssignmentsFor(ctx context.Context, db *gorm.DB, appIDs []uint) (map[uint][]ReviewAssignment, error) {
	out := make(map[uint][]ReviewAssignment, len(appIDs))
	if len(appIDs) == 0 {
		return out, nil
	}
	var as []ReviewAssignment
	err := db.WithContext(ctx).Preload("Reviewer").Preload("Scores").Where("application_id IN ?", appIDs).
		Order("id").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", err)
	}
	for _, a := range as {
		out[a.ApplicationID] = append(out[a.ApplicationID], a)
	}
	return out, nil
}

// AssignmentsOf returns a reviewer's assignments.
func AssignmentsOf(ctx context.Context, db *gorm.DB, reviewerID uint) ([]ReviewAssignment, error) {
	var out []ReviewAssignment
	err := db.WithContext(ctx).Preload("Scores").Where("reviewer_id = ?", reviewerID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: assignments of %d: %w", reviewerID, err)
	}
	return out, nil
}

// GetOwnAssignment loads a review assignment with its scores, and the
// application under review, for its reviewer only: another user's
// assignment is ErrNotFound, as a missing one is.
func GetOwnAssignment(ctx context.Context, db *gorm.DB, id uint, reviewer *User) (*ReviewAssignment, *Application, error) {
	if reviewer == nil {
		return nil, nil, fmt.Errorf("store: assignment %d: %w", id, ErrNotFound)
	}
	var a ReviewAssignment
	err := db.WithContext(ctx).Preload("Scores").Where("id = ? AND reviewer_id = ?", id, reviewer.ID).First(&a).Error
	if err != nil {
		return nil, nil, notFound(fmt.Sprintf("store: assignment %d", id), err)
	}
	app, err := GetApplication(ctx, db, a.ApplicationID)
	if err != nil {
		return nil, nil, err
	}
	return &a, app, nil
}

// ScoreSheet is what ranking needs of one application: when it was
// submitted and each criterion's scores from reviewers who declared no conflict.
type ScoreSheet struct {
	ApplicationID uint
	SubmittedAt   time.Time
	Scores        map[uint][]float64 // criterion ID → values
	Reviewers     int                // reviewers who scored every criterion
}

// Ranked is one application's place in the ranking.
type Ranked struct {
	ApplicationID uint
	Rank          int
	Total         float64          // weighted score, 0–100
	PerCriterion  map[uint]float64 // criterion ID → weighted points
	Reviewers     int
	TieBreak      string // which rule separated it from the one above, if a tie
}

// TieBreakRule is how equal totals are ordered, as shown to officers.
const TieBreakRule = "total, then the points of the highest-weighted criterion, then the earlier submission, then the lower application number"

// RankApplications orders applications by weighted score. A criterion's
// points are weight × (mean of its scores ÷ its scale); the total is their
// sum (0–100). Ties are broken by TieBreakRule.
func RankApplications(criteria []Criterion, sheets []ScoreSheet) []Ranked {
	top := topCriterion(criteria)
	out := make([]Ranked, 0, len(sheets))
	for _, s := range sheets {
		r := Ranked{ApplicationID: s.ApplicationID, PerCriterion: map[uint]float64{}, Reviewers: s.Reviewers}
		for _, c := range criteria {
			vals := s.Scores[c.ID]
			if len(vals) == 0 || c.MaxScore <= 0 {
				continue
			}
			var sum float64
			for _, v := range vals {
				sum += v
			}
			pts := c.Weight * (sum / float64(len(vals))) / float64(c.MaxScore)
			r.PerCriterion[c.ID] = pts
			r.Total += pts
		}
		r.Total = round6(r.Total)
		out = append(out, r)
	}
	submitted := map[uint]time.Time{}
	for _, s := range sheets {
		submitted[s.ApplicationID] = s.SubmittedAt
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		if pa, pb := round6(a.PerCriterion[top]), round6(b.PerCriterion[top]); pa != pb {
			return pa > pb
		}
		if ta, tb := submitted[a.ApplicationID], submitted[b.ApplicationID]; !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.ApplicationID < b.ApplicationID
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Total == out[i-1].Total {
			prev := out[i-1]
			switch {
			case round6(prev.PerCriterion[top]) != round6(out[i].PerCriterion[top]):
				out[i].TieBreak = "criterion"
			case !submitted[prev.ApplicationID].Equal(submitted[out[i].ApplicationID]):
				out[i].TieBreak = "submitted"
			default:
				out[i].TieBreak = "number"
			}
		}
	}
	return out
}

func topCriterion(criteria []Criterion) uint {
	var best Criterion
	for _, c := range criteria {
		if best.ID == 0 || c.Weight > best.Weight || (c.Weight == best.Weight && c.Position < best.Position) {
			best = c
		}
	}
	return best.ID
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// LoadScoreSheets gathers, for every application of a call under review or
// decided, the scores of reviewers who declared no conflict and scored
// every criterion.
func LoadScoreSheets(ctx context.Context, db *gorm.DB, call *Call) ([]ScoreSheet, error) {
	var apps []Application
	err := db.WithContext(ctx).Where("call_id = ? AND status IN ?", call.ID,
		[]ApplicationStatus{StatusUnderReview, StatusSelected, StatusNotSelected}).Order("id").Find(&apps).Error
	if err != nil {
		return nil, fmt.Errorf("store: score sheets: %w", err)
	}
	ids := make([]uint, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	assignments, err := AssignmentsFor(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	sheets := make([]ScoreSheet, 0, len(apps))
	for _, a := range apps {
		s := ScoreSheet{ApplicationID: a.ID, Scores: map[uint][]float64{}}
		if a.SubmittedAt != nil {
			s.SubmittedAt = *a.SubmittedAt
		}
		for _, r := range assignments[a.ID] {
			if r.Conflict != ConflictNone || len(r.Scores) < len(call.Criteria) {
				continue
			}
			s.Reviewers++
			for _, sc := range r.Scores {
				s.Scores[sc.CriterionID] = append(s.Scores[sc.CriterionID], sc.Value)
			}
		}
		sheets = append(sheets, s)
	}
	return sheets, nil
}

// MayReview reports whether the user may be assigned applications to
// review: officers and admins, and external evaluators (RoleReviewer).
func (u *User) MayReview() bool { return u.Role.IsMinistry() || u.Role == RoleReviewer }

// GetApplicationToReview loads an application for an external evaluator
// (RoleReviewer), who reads nothing of the programme but what they are
// assigned: the application, with its documents, while they are its
// reviewer and have not recused themselves. Anything else (not assigned,
// recused, another role, a missing application) is ErrNotFound, so the
// answer does not tell that the application exists.
func GetApplicationToReview(ctx context.Context, db *gorm.DB, appID uint, reviewer *User) (*Application, error) {
	if reviewer == nil || reviewer.Role != RoleReviewer {
		return nil, fmt.Errorf("store: application %d to review: %w", appID, ErrNotFound)
	}
	var n int64
	err := db.WithContext(ctx).Model(&ReviewAssignment{}).
		Where("application_id = ? AND reviewer_id = ? AND conflict <> ?", appID, reviewer.ID, ConflictRecused).Count(&n).Error
	if err != nil {
		return nil, fmt.Errorf("store: application %d to review: %w", appID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("store: application %d to review: %w", appID, ErrNotFound)
	}
	return GetApplication(ctx, db, appID)
}

// ListReviewers lists the users who may review (MayReview), as ListUsers
// orders them.
func ListReviewers(ctx context.Context, db *gorm.DB) ([]User, error) {
	users, err := ListUsers(ctx, db)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(users, func(u User) bool { return !u.MayReview() }), nil
}

// CallScore is an application's score and rank as a user may see it.
type CallScore struct {
	Total     float64
	Rank      int
	Reviewers int  // reviewers who scored every criterion
	Published bool // from the published decision; otherwise the running ranking
}

// CallScores returns each application's score and rank as u may see them:
// the published ones once there is a decision d (the call's current
// selection); before it, the running ranking for the ministry only (nil for
// anyone else: scores are private to officers until publication).
func CallScores(ctx context.Context, db *gorm.DB, call *Call, d *Decision, u *User) (map[uint]CallScore, error) {
	out := map[uint]CallScore{}
	if d != nil {
		for _, e := range d.Entries {
			out[e.ApplicationID] = CallScore{Total: e.Score, Rank: e.Rank, Reviewers: 1, Published: true}
		}
		return out, nil
	}
	if u == nil || !u.Role.IsMinistry() {
		return nil, nil
	}
	sheets, err := LoadScoreSheets(ctx, db, call)
	if err != nil {
		return nil, err
	}
	for _, r := range RankApplications(call.Criteria, sheets) {
		out[r.ApplicationID] = CallScore{Total: r.Total, Rank: r.Rank, Reviewers: r.Reviewers}
	}
	return out, nil
}

// CallApplications is a page of a call's applications as the officers'
// list and its export show them to a user.
type CallApplications struct {
	Apps        []Application
	Total       int64                       // matching the filter, all pages
	Decision    *Decision                   // the call's current selection, nil before one
	Scores      map[uint]CallScore          // as the user may see them (CallScores); nil: none
	Assignments map[uint][]ReviewAssignment // by application
}

// ReadCallApplications reads the call's applications matching f (its
// CallID is the call's) as u may see them.
func ReadCallApplications(ctx context.Context, db *gorm.DB, call *Call, f ApplicationFilter, u *User) (*CallApplications, error) {
	f.CallID = call.ID
	r := &CallApplications{}
	var err error
	if r.Apps, r.Total, err = ListApplications(ctx, db, f); err != nil {
		return nil, err
	}
	if r.Decision, err = CurrentSelection(ctx, db, call.ID); err != nil {
		return nil, err
	}
	if r.Scores, err = CallScores(ctx, db, call, r.Decision, u); err != nil {
		return nil, err
	}
	ids := make([]uint, len(r.Apps))
	for i, a := range r.Apps {
		ids[i] = a.ID
	}
	if r.Assignments, err = AssignmentsFor(ctx, db, ids); err != nil {
		return nil, err
	}
	return r, nil
}
