package models

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// StageInput is what an officer enters for a stage.
type StageInput struct {
	NameKO, NameEN string
	StartsOn       string // 2006-01-02
	EvaluatedOn    string // 2006-01-02
	ReportDue      string // KST, to the second (StageInstantLayout)
	Eliminate      string
	CarryOver      bool // copy the earlier stage's criteria (new stages only)
}

// StageInstantLayout is how a stage's closing instants are typed: KST, to
// the second.
const StageInstantLayout = "2006-01-02T15:04:05"

// ParseStageInstant reads an instant in KST, to the second (seconds may
// be left out).
func ParseStageInstant(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{StageInstantLayout, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, KST); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FormatStageInstant writes an instant for a form field (KST, to the second).
func FormatStageInstant(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(KST).Format(StageInstantLayout)
}

// validate checks the input and writes it into s.
func (in StageInput) validate(s *Stage) FieldErrors {
	errs := FieldErrors{}
	for field, v := range map[string]string{"name_ko": in.NameKO, "name_en": in.NameEN} {
		if strings.TrimSpace(v) == "" {
			errs.Add(field, "form.required")
		}
		errs.CheckText(field, strings.TrimSpace(v), MaxStageName, SingleLine)
	}
	start, err1 := ParseDate(strings.TrimSpace(in.StartsOn))
	if err1 != nil {
		errs.Add("starts_on", "stage.error.date")
	}
	eval, err2 := ParseDate(strings.TrimSpace(in.EvaluatedOn))
	if err2 != nil {
		errs.Add("evaluated_on", "stage.error.date")
	}
	if err1 == nil && err2 == nil && !start.Before(eval) {
		errs.Add("evaluated_on", "stage.error.dates")
	}
	var due *time.Time
	if strings.TrimSpace(in.ReportDue) != "" {
		t, ok := ParseStageInstant(in.ReportDue)
		if !ok {
			errs.Add("report_due", "form.datetime")
		} else {
			t = t.UTC()
			due = &t
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(in.Eliminate))
	if err != nil || n < 0 || n > 100 {
		errs.Add("eliminate", "stage.error.eliminate")
	}
	s.NameKO, s.NameEN = strings.TrimSpace(in.NameKO), strings.TrimSpace(in.NameEN)
	s.StartsOn, s.EvaluatedOn, s.ReportDue, s.Eliminate = start.String(), eval.String(), due, n
	return errs
}

// NewStageInput proposes the next stage: it starts where the earlier one
// was evaluated (or at the agreements' first start) and is evaluated six
// months later.
func NewStageInput(ctx context.Context, db *gorm.DB) (StageInput, error) {
	stages, err := ListStages(ctx, db)
	if err != nil {
		return StageInput{}, err
	}
	var start Date
	if n := len(stages); n > 0 {
		start, _ = ParseDate(stages[n-1].EvaluatedOn)
	} else {
		var first []string
		if err := db.WithContext(ctx).Model(&AgreementVersion{}).Where("status = ?", VersionSigned).
			Order("start_date").Limit(1).Pluck("start_date", &first).Error; err != nil {
			return StageInput{}, fmt.Errorf("store: agreements' start: %w", err)
		}
		if len(first) == 0 {
			return StageInput{Eliminate: "1"}, nil
		}
		start, _ = ParseDate(first[0])
	}
	eval := NewDate(start.Year, start.Month+StageIntervalMonths, start.Day)
	n := len(stages) + 1
	return StageInput{NameKO: fmt.Sprintf("%d차 단계평가", n), NameEN: fmt.Sprintf("Stage evaluation %d", n),
		StartsOn: start.String(), EvaluatedOn: eval.String(),
		ReportDue: eval.AddDays(-14).Start().Add(18 * time.Hour).Format(StageInstantLayout), Eliminate: "1", CarryOver: n > 1}, nil
}

// ListStages returns the programme's stages in order, with their criteria.
func ListStages(ctx context.Context, db *gorm.DB) ([]Stage, error) {
	var out []Stage
	err := db.WithContext(ctx).Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position, id") }).
		Order("number, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: list stages: %w", err)
	}
	return out, nil
}

// GetStage loads a stage with its criteria in order.
func GetStage(ctx context.Context, db *gorm.DB, id uint) (*Stage, error) {
	var s Stage
	err := db.WithContext(ctx).Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position, id") }).
		First(&s, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: stage %d", id), err)
	}
	return &s, nil
}

// lockStage serialises the writers of one stage: it touches the stage's
// row and loads it as it now stands.
func lockStage(ctx context.Context, tx *gorm.DB, id uint, now time.Time) (*Stage, error) {
	res := tx.WithContext(ctx).Model(&Stage{}).Where("id = ?", id).Update("updated_at", now.UTC())
	if res.Error != nil {
		return nil, fmt.Errorf("store: lock stage %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("store: stage %d: %w", id, ErrNotFound)
	}
	return GetStage(ctx, tx, id)
}

func ministryOnly(by *User, what string) error {
	if by == nil || !by.Role.IsMinistry() {
		return fmt.Errorf("store: %s: %w", what, ErrForbidden)
	}
	return nil
}

// CreateStage defines a stage; with CarryOver the earlier stage's criteria
// are copied into its set as carried-over criteria (its first revision).
func CreateStage(ctx context.Context, db *gorm.DB, in StageInput, by *User, now time.Time) (*Stage, FieldErrors, error) {
	if err := ministryOnly(by, "create stage"); err != nil {
		return nil, nil, err
	}
	prog, err := CurrentProgramme(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	s := &Stage{ProgrammeID: prog.ID}
	if errs := in.validate(s); errs.Any() {
		return nil, errs, fmt.Errorf("store: create stage: %w", ErrInvalid)
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var prev Stage
		found := true
		if err := tx.Preload("Criteria", func(tx *gorm.DB) *gorm.DB { return tx.Order("position, id") }).
			Where("programme_id = ?", prog.ID).Order("number DESC").Take(&prev).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			found = false
		} else if err != nil {
			return err
		}
		s.Number = prev.Number + 1
		if err := tx.Create(s).Error; err != nil {
			return fmt.Errorf("store: create stage: %w", err)
		}
		if err := RecordAudit(ctx, tx, ActorOf(by), "stage.create", "stage", fmt.Sprint(s.ID),
			fmt.Sprintf("%s: %s → %s, eliminate %d", s.NameKO, s.StartsOn, s.EvaluatedOn, s.Eliminate), now); err != nil {
			return err
		}
		if !in.CarryOver || !found || len(prev.Criteria) == 0 {
			return nil
		}
		for i, c := range prev.Criteria {
			nc := StageCriterion{StageID: s.ID, Code: c.Code, Kind: KindCarried, Imported: c.Imported, NameKO: c.NameKO,
				NameEN: c.NameEN, Weight: c.Weight, Scale: c.Scale, Position: i + 1}
			if err := tx.Create(&nc).Error; err != nil {
				return err
			}
		}
		return recordRevision(ctx, tx, s.ID, fmt.Sprintf("carried over from stage %d", prev.Number), by, now)
	})
	if err != nil {
		return nil, nil, err
	}
	return s, nil, nil
}

// UpdateStage changes a stage's names, dates and number to eliminate,
// until its decision is published.
func UpdateStage(ctx context.Context, db *gorm.DB, id uint, in StageInput, by *User, now time.Time) (FieldErrors, error) {
	if err := ministryOnly(by, "update stage"); err != nil {
		return nil, err
	}
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := lockStage(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if s.DecisionID != nil {
			return fmt.Errorf("store: update stage %d: decided: %w", id, ErrInvalidTransition)
		}
		before := fmt.Sprintf("%s → %s, eliminate %d", s.StartsOn, s.EvaluatedOn, s.Eliminate)
		if errs = in.validate(s); errs.Any() {
			return fmt.Errorf("store: update stage: %w", ErrInvalid)
		}
		if err := tx.Model(&Stage{}).Where("id = ?", id).Updates(map[string]any{"name_ko": s.NameKO, "name_en": s.NameEN,
			"starts_on": s.StartsOn, "evaluated_on": s.EvaluatedOn, "report_due": s.ReportDue, "eliminate": s.Eliminate}).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.update", "stage", fmt.Sprint(id),
			fmt.Sprintf("%s ⇒ %s → %s, eliminate %d", before, s.StartsOn, s.EvaluatedOn, s.Eliminate), now)
	})
	return errs, err
}

// recordRevision keeps the stage's set as it now stands as its next
// revision.
func recordRevision(ctx context.Context, tx *gorm.DB, stageID uint, change string, by *User, now time.Time) error {
	var cs []StageCriterion
	if err := tx.Where("stage_id = ?", stageID).Order("position, id").Find(&cs).Error; err != nil {
		return err
	}
	if err := tx.Model(&Stage{}).Where("id = ?", stageID).Update("revision", gorm.Expr("revision + 1")).Error; err != nil {
		return err
	}
	var rev int
	if err := tx.Model(&Stage{}).Where("id = ?", stageID).Pluck("revision", &rev).Error; err != nil {
		return err
	}
	r := StageRevision{StageID: stageID, Revision: rev, Change: change, Set: setText(cs), ByID: by.ID, At: now.UTC()}
	if err := tx.Omit("By").Create(&r).Error; err != nil {
		return err
	}
	return RecordAudit(ctx, tx, ActorOf(by), "stage.criteria", "stage", fmt.Sprint(stageID),
		fmt.Sprintf("revision %d: %s", rev, change), now)
}

// ListRevisions returns a stage's set revisions, oldest first.
func ListRevisions(ctx context.Context, db *gorm.DB, stageID uint) ([]StageRevision, error) {
	var out []StageRevision
	err := db.WithContext(ctx).Preload("By").Where("stage_id = ?", stageID).Order("revision").Find(&out).Error
	return out, err
}

// CriterionInput is a criterion as an officer typed it.
type CriterionInput struct {
	Code, Kind, NameKO, NameEN, Weight, Scale string
}

// openSet loads the stage for a change of its set: refused once frozen.
func openSet(ctx context.Context, tx *gorm.DB, id uint, now time.Time) (*Stage, error) {
	s, err := lockStage(ctx, tx, id, now)
	if err != nil {
		return nil, err
	}
	if s.Frozen() {
		return nil, fmt.Errorf("store: stage %d: %w", id, ErrStageFrozen)
	}
	return s, nil
}

// AddCriterion adds a criterion to a stage's set (not frozen), as a new
// revision of the set.
func AddCriterion(ctx context.Context, db *gorm.DB, stageID uint, in CriterionInput, by *User, now time.Time) (FieldErrors, error) {
	if err := ministryOnly(by, "add criterion"); err != nil {
		return nil, err
	}
	errs := FieldErrors{}
	code := strings.ToLower(strings.TrimSpace(in.Code))
	if code == "" || len(code) > MaxCriterionCode || strings.Trim(code, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		errs.Add("code", "stage.error.code")
	}
	kind := CriterionKind(in.Kind)
	if !kind.Valid() {
		errs.Add("kind", "stage.error.kind")
	}
	for field, v := range map[string]string{"crit_name_ko": in.NameKO, "crit_name_en": in.NameEN} {
		if strings.TrimSpace(v) == "" {
			errs.Add(field, "form.required")
		}
		errs.CheckText(field, strings.TrimSpace(v), MaxStageName, SingleLine)
	}
	weight, err := strconv.ParseFloat(strings.TrimSpace(in.Weight), 64)
	if err != nil || weight <= 0 || weight > 100 {
		errs.Add("weight", "stage.error.weight")
	}
	scale := float64(DefaultStageScale)
	if strings.TrimSpace(in.Scale) != "" {
		if scale, err = strconv.ParseFloat(strings.TrimSpace(in.Scale), 64); err != nil || scale <= 0 || scale > 1e6 {
			errs.Add("scale", "stage.error.scale")
		}
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := openSet(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		for _, c := range s.Criteria {
			if c.Code == code {
				errs.Add("code", "stage.error.code_taken")
			}
		}
		if errs.Any() {
			return fmt.Errorf("store: add criterion: %w", ErrInvalid)
		}
		c := StageCriterion{StageID: s.ID, Code: code, Kind: kind, Imported: kind.importedByDefault(), NameKO: strings.TrimSpace(in.NameKO),
			NameEN: strings.TrimSpace(in.NameEN), Weight: weight, Scale: scale, Position: len(s.Criteria) + 1}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		return recordRevision(ctx, tx, s.ID, fmt.Sprintf("added %s (%s, weight %g)", c.Code, c.Kind, c.Weight), by, now)
	})
	return errs, err
}

// RemoveCriterion removes a criterion from a stage's set (not frozen), as
// a new revision of the set.
func RemoveCriterion(ctx context.Context, db *gorm.DB, stageID, criterionID uint, by *User, now time.Time) error {
	if err := ministryOnly(by, "remove criterion"); err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := openSet(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(s.Criteria, func(c StageCriterion) bool { return c.ID == criterionID })
		if i < 0 {
			return fmt.Errorf("store: criterion %d of stage %d: %w", criterionID, stageID, ErrNotFound)
		}
		if err := tx.Delete(&StageCriterion{}, criterionID).Error; err != nil {
			return err
		}
		return recordRevision(ctx, tx, s.ID, "removed "+s.Criteria[i].Code, by, now)
	})
}

// OpenOpinions publishes the proposed set to the teams, who may send
// opinions until closes (KST, to the second). It may be published again
// with a new closing instant until the set is frozen.
func OpenOpinions(ctx context.Context, db *gorm.DB, stageID uint, closes string, by *User, now time.Time) (FieldErrors, error) {
	if err := ministryOnly(by, "open opinions"); err != nil {
		return nil, err
	}
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := openSet(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		errs = CheckSet(s.Criteria)
		t, ok := ParseStageInstant(closes)
		switch {
		case !ok:
			errs.Add("opinions_close", "form.datetime")
		case !t.After(now):
			errs.Add("opinions_close", "stage.error.close_past")
		}
		if errs.Any() {
			return fmt.Errorf("store: open opinions: %w", ErrInvalid)
		}
		upd := map[string]any{"opinions_close": t.UTC()}
		if s.OpinionsOpened == nil {
			upd["opinions_opened"] = now.UTC()
		}
		if err := tx.Model(&Stage{}).Where("id = ?", s.ID).Updates(upd).Error; err != nil {
			return err
		}
		if err := notifyOpinionsOpened(ctx, tx, s, t, now); err != nil {
			return err
		}
		return recordRevision(ctx, tx, s.ID, "published for opinions until "+t.In(KST).Format("2006-01-02 15:04:05 KST"), by, now)
	})
	return errs, err
}

// StageTeam is a team a stage evaluates.
type StageTeam struct {
	Organisation    Organisation
	AgreementNumber string
}

// StageTeams returns the teams the stage evaluates: those of its decision
// once published, else the teams with an agreement in force, by Korean
// name.
func StageTeams(ctx context.Context, db *gorm.DB, s *Stage) ([]StageTeam, error) {
	tx := db.WithContext(ctx)
	var ids []uint
	if s.DecisionID != nil {
		if err := tx.Model(&DecisionEntry{}).Where("decision_id = ?", *s.DecisionID).Pluck("organisation_id", &ids).Error; err != nil {
			return nil, err
		}
	} else {
		if err := tx.Model(&Agreement{}).Where("programme_id = ? AND in_force_id IS NOT NULL AND terminated_on = ''", s.ProgrammeID).
			Pluck("organisation_id", &ids).Error; err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var orgs []Organisation
	if err := tx.Where("id IN ?", ids).Order("name_ko").Find(&orgs).Error; err != nil {
		return nil, err
	}
	var as []Agreement
	if err := tx.Where("programme_id = ? AND organisation_id IN ? AND in_force_id IS NOT NULL", s.ProgrammeID, ids).Order("id").Find(&as).Error; err != nil {
		return nil, err
	}
	num := map[uint]string{}
	for _, a := range as {
		if _, ok := num[a.OrganisationID]; !ok {
			num[a.OrganisationID] = a.Number
		}
	}
	out := make([]StageTeam, len(orgs))
	for i, o := range orgs {
		out[i] = StageTeam{Organisation: o, AgreementNumber: num[o.ID]}
	}
	return out, nil
}

// teamInStanding checks that the user is a company user whose organisation
// has an agreement in force today (CheckStanding).
func teamInStanding(ctx context.Context, tx *gorm.DB, by *User, now time.Time) (uint, error) {
	if by == nil || by.Role != RoleCompany || by.OrganisationID == nil {
		return 0, fmt.Errorf("store: stage: %w", ErrForbidden)
	}
	today := DateOf(now)
	if _, err := CheckStanding(ctx, tx, *by.OrganisationID, today, today); err != nil {
		if errors.Is(err, ErrNoAgreement) {
			return 0, fmt.Errorf("store: stage: organisation %d: %w: %w", *by.OrganisationID, ErrForbidden, ErrNoStanding)
		}
		return 0, err
	}
	return *by.OrganisationID, nil
}

// SendOpinion records a team's opinion on the proposed set, while the
// opinion period is open; a *StageClosedError after it closed.
func SendOpinion(ctx context.Context, db *gorm.DB, stageID uint, text string, by *User, now time.Time) (FieldErrors, error) {
	text = strings.TrimSpace(text)
	errs := FieldErrors{}
	if text == "" {
		errs.Add("text", "form.required")
	}
	errs.CheckText("text", text, MaxStageText, MultiLine)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		orgID, err := teamInStanding(ctx, tx, by, now)
		if err != nil {
			return err
		}
		s, err := GetStage(ctx, tx, stageID)
		if err != nil {
			return err
		}
		if s.OpinionsClose == nil {
			return fmt.Errorf("store: opinion: stage %d not published: %w", stageID, ErrInvalidTransition)
		}
		if !s.OpinionsOpen(now) {
			return &StageClosedError{What: "opinions", Closes: *s.OpinionsClose}
		}
		if errs.Any() {
			return fmt.Errorf("store: opinion: %w", ErrInvalid)
		}
		o := StageOpinion{StageID: s.ID, OrganisationID: orgID, ByID: by.ID, Text: text, SentAt: now.UTC()}
		if err := tx.Omit("Organisation").Create(&o).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.opinion", "stage_opinion", fmt.Sprint(o.ID),
			fmt.Sprintf("stage %d, organisation %d", s.ID, orgID), now)
	})
	return errs, err
}

// ListOpinions returns a stage's opinions, oldest first: all of them for
// the ministry and auditors, a team's own for a company user.
func ListOpinions(ctx context.Context, db *gorm.DB, stageID uint, u *User) ([]StageOpinion, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Organisation").Where("stage_id = ?", stageID)
	if own != nil {
		q = q.Where("organisation_id = ?", *own)
	}
	var out []StageOpinion
	err := q.Order("sent_at, id").Find(&out).Error
	return out, err
}

// AnswerOpinion records the officers' answer to an opinion (once).
func AnswerOpinion(ctx context.Context, db *gorm.DB, stageID, opinionID uint, answer string, by *User, now time.Time) (FieldErrors, error) {
	if err := ministryOnly(by, "answer opinion"); err != nil {
		return nil, err
	}
	answer = strings.TrimSpace(answer)
	errs := FieldErrors{}
	if answer == "" {
		errs.Add("answer", "form.required")
	}
	errs.CheckText("answer", answer, MaxStageText, MultiLine)
	if errs.Any() {
		return errs, fmt.Errorf("store: answer opinion: %w", ErrInvalid)
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&StageOpinion{}).Where("id = ? AND stage_id = ? AND answered_at IS NULL", opinionID, stageID).
			Updates(map[string]any{"answer": answer, "answered_by_id": by.ID, "answered_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			tx.Model(&StageOpinion{}).Where("id = ? AND stage_id = ?", opinionID, stageID).Count(&n)
			if n == 0 {
				return fmt.Errorf("store: opinion %d: %w", opinionID, ErrNotFound)
			}
			return fmt.Errorf("store: opinion %d answered already: %w", opinionID, ErrConflict)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.answer", "stage_opinion", fmt.Sprint(opinionID), "answered", now)
	})
	return nil, err
}

// FreezeStage freezes the stage's set: it must have been published for
// opinions, the opinion period must be over and every opinion answered.
// From then on the set is immutable.
func FreezeStage(ctx context.Context, db *gorm.DB, stageID uint, by *User, now time.Time) (FieldErrors, error) {
	if err := ministryOnly(by, "freeze stage"); err != nil {
		return nil, err
	}
	var errs FieldErrors
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := openSet(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		errs = CheckSet(s.Criteria)
		switch {
		case s.OpinionsClose == nil:
			errs.Add("freeze", "stage.error.not_published")
		case now.Before(*s.OpinionsClose):
			errs.Add("freeze", "stage.error.opinions_open")
		}
		var unanswered int64
		if err := tx.Model(&StageOpinion{}).Where("stage_id = ? AND answered_at IS NULL", s.ID).Count(&unanswered).Error; err != nil {
			return err
		}
		if unanswered > 0 {
			errs.Add("freeze", "stage.error.unanswered")
		}
		if errs.Any() {
			return fmt.Errorf("store: freeze stage: %w", ErrInvalid)
		}
		if err := tx.Model(&Stage{}).Where("id = ?", s.ID).Updates(map[string]any{"frozen_at": now.UTC(), "frozen_by_id": by.ID}).Error; err != nil {
			return err
		}
		return recordRevision(ctx, tx, s.ID, "frozen", by, now)
	})
	return errs, err
}

// StageReportInput is a team's stage report as typed.
type StageReportInput struct {
	StageID            uint
	ModelVersions      string
	ServiceName        string
	ServiceURL         string
	ServiceDescription string
	Documents          []*UploadedFile
	Files              *FileStore
	Uploads            UploadPolicy
}

// SubmitStageReport records (or replaces the texts of, and adds documents
// to) the user's team's report, before the due instant; a
// *StageClosedError after it.
func SubmitStageReport(ctx context.Context, db *gorm.DB, in StageReportInput, by *User, now time.Time) (FieldErrors, error) {
	errs := FieldErrors{}
	in.ModelVersions, in.ServiceName = strings.TrimSpace(in.ModelVersions), strings.TrimSpace(in.ServiceName)
	in.ServiceURL, in.ServiceDescription = strings.TrimSpace(in.ServiceURL), strings.TrimSpace(in.ServiceDescription)
	for field, v := range map[string]string{"model_versions": in.ModelVersions, "service_name": in.ServiceName,
		"service_url": in.ServiceURL, "service_description": in.ServiceDescription} {
		if v == "" {
			errs.Add(field, "form.required")
		}
	}
	errs.CheckText("model_versions", in.ModelVersions, MaxStageText, MultiLine)
	errs.CheckText("service_name", in.ServiceName, MaxStageName, SingleLine)
	errs.CheckText("service_description", in.ServiceDescription, MaxStageText, MultiLine)
	if u, err := url.Parse(in.ServiceURL); in.ServiceURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		len(in.ServiceURL) > MaxServiceURL || CheckText(in.ServiceURL, MaxServiceURL, SingleLine) != "") {
		errs.Add("service_url", "stage.error.url")
	}
	if len(in.Documents) > MaxReportDocuments {
		errs.Add("documents", "stage.error.documents")
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		orgID, err := teamInStanding(ctx, tx, by, now)
		if err != nil {
			return err
		}
		s, err := GetStage(ctx, tx, in.StageID)
		if err != nil {
			return err
		}
		if s.ReportDue == nil {
			return fmt.Errorf("store: stage report: no due date: %w", ErrInvalidTransition)
		}
		if !s.ReportsOpen(now) {
			return &StageClosedError{What: "report", Closes: *s.ReportDue}
		}
		if errs.Any() {
			return fmt.Errorf("store: stage report: %w", ErrInvalid)
		}
		var stored []*StoredFile
		for _, d := range in.Documents {
			r, err := d.Open()
			if err != nil {
				return err
			}
			f, err := in.Files.Save(ctx, tx, d.Name, r, in.Uploads, by.ID, now.UTC())
			r.Close()
			switch {
			case errors.Is(err, ErrUploadTooLarge):
				errs.Add("documents", "stage.error.file_too_large")
			case errors.Is(err, ErrUploadType), errors.Is(err, ErrUploadEmpty):
				errs.Add("documents", "stage.error.file_type")
			case err != nil:
				return err
			}
			stored = append(stored, f)
		}
		if errs.Any() {
			return fmt.Errorf("store: stage report: %w", ErrInvalid)
		}
		rep := StageReport{StageID: s.ID, OrganisationID: orgID, ModelVersions: in.ModelVersions, ServiceName: in.ServiceName,
			ServiceURL: in.ServiceURL, ServiceDescription: in.ServiceDescription, SubmittedByID: by.ID, SubmittedAt: now.UTC()}
		if err := tx.Omit("Organisation", "Files").Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "stage_id"}, {Name: "organisation_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"model_versions", "service_name", "service_url", "service_description",
				"submitted_by_id", "submitted_at"}),
		}).Create(&rep).Error; err != nil {
			return err
		}
		if err := tx.Where("stage_id = ? AND organisation_id = ?", s.ID, orgID).Take(&rep).Error; err != nil {
			return err
		}
		for _, f := range stored {
			if err := tx.Omit("File").Create(&StageReportFile{ReportID: rep.ID, FileID: f.ID}).Error; err != nil {
				return err
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.report", "stage_report", fmt.Sprint(rep.ID),
			fmt.Sprintf("stage %d, organisation %d, %d documents added", s.ID, orgID, len(stored)), now)
	})
	return errs, err
}

// ListStageReports returns a stage's reports with their documents: all of
// them for the ministry and auditors (and the public page, with all
// true), a team's own for a company user.
func ListStageReports(ctx context.Context, db *gorm.DB, stageID uint, u *User, all bool) ([]StageReport, error) {
	q := db.WithContext(ctx).Preload("Organisation").Preload("Files.File").Where("stage_id = ?", stageID)
	if !all {
		own, ok := u.OrganisationScope()
		if !ok {
			return nil, nil
		}
		if own != nil {
			q = q.Where("organisation_id = ?", *own)
		}
	}
	var out []StageReport
	err := q.Order("organisation_id").Find(&out).Error
	return out, err
}

// MayEvaluate reports whether the user may be assigned a stage to
// evaluate: an officer, an administrator or an external reviewer.
func (u *User) MayEvaluate() bool { return u.Role.IsMinistry() || u.Role == RoleReviewer }

// AssignStageEvaluator makes a user an evaluator of the stage.
func AssignStageEvaluator(ctx context.Context, db *gorm.DB, stageID, userID uint, by *User, now time.Time) error {
	return AssignStageEvaluatorDue(ctx, db, stageID, userID, "", by, now)
}

// AssignStageEvaluatorDue is AssignStageEvaluator with the day the scores
// are due ("": DefaultEvaluationDue of the stage); a due day that is not a
// date from today on is ErrInvalidDue. Assigning again changes nothing.
func AssignStageEvaluatorDue(ctx context.Context, db *gorm.DB, stageID, userID uint, due string, by *User, now time.Time) error {
	if err := ministryOnly(by, "assign evaluator"); err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := lockStage(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		var u User
		if err := tx.First(&u, userID).Error; err != nil {
			return notFound(fmt.Sprintf("store: user %d", userID), err)
		}
		if !u.MayEvaluate() {
			return fmt.Errorf("store: assign evaluator: user %d may not evaluate: %w", userID, ErrInvalid)
		}
		dueOn, err := ParseDue(due, DefaultEvaluationDue(s), now)
		if err != nil {
			return err
		}
		e := StageEvaluator{StageID: stageID, UserID: userID, CreatedAt: now.UTC(), DueOn: dayText(dueOn)}
		res := tx.Omit("User").Clauses(clause.OnConflict{DoNothing: true}).Create(&e)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.evaluator", "stage", fmt.Sprint(stageID),
			fmt.Sprintf("user %d assigned, due %s", userID, dueOn), now)
	})
}

// ListStageEvaluators returns the stage's evaluators with their users.
func ListStageEvaluators(ctx context.Context, db *gorm.DB, stageID uint) ([]StageEvaluator, error) {
	var out []StageEvaluator
	err := db.WithContext(ctx).Preload("User").Where("stage_id = ?", stageID).Order("id").Find(&out).Error
	return out, err
}

// ListStageEvaluatorCandidates lists the users who may evaluate.
func ListStageEvaluatorCandidates(ctx context.Context, db *gorm.DB) ([]User, error) {
	var out []User
	err := db.WithContext(ctx).Where("role IN ?", []Role{RoleOfficer, RoleAdmin, RoleReviewer}).Order("name, id").Find(&out).Error
	return out, err
}

// StageAssignments returns the stages the user evaluates.
func StageAssignments(ctx context.Context, db *gorm.DB, u *User) ([]Stage, error) {
	var out []Stage
	err := db.WithContext(ctx).Where("id IN (?)", db.Model(&StageEvaluator{}).Select("stage_id").Where("user_id = ?", u.ID)).
		Order("number").Find(&out).Error
	return out, err
}

// Evaluation is what an evaluator sees of a stage: the set, the teams, the
// declarations and their own scores.
type Evaluation struct {
	Stage        *Stage
	Evaluator    StageEvaluator
	Teams        []StageTeam
	Declarations map[uint]string           // organisation → conflict
	Scores       map[uint]map[uint]float64 // organisation → criterion → value
	Reports      map[uint]StageReport      // organisation → report
}

// LoadEvaluation loads the user's evaluation of a stage; ErrNotEvaluator
// for a user not assigned to it.
func LoadEvaluation(ctx context.Context, db *gorm.DB, stageID uint, u *User) (*Evaluation, error) {
	tx := db.WithContext(ctx)
	var e StageEvaluator
	if err := tx.Where("stage_id = ? AND user_id = ?", stageID, u.ID).Take(&e).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("store: evaluation of stage %d: %w: %w", stageID, ErrForbidden, ErrNotEvaluator)
		}
		return nil, err
	}
	s, err := GetStage(ctx, tx, stageID)
	if err != nil {
		return nil, err
	}
	teams, err := StageTeams(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{Stage: s, Evaluator: e, Teams: teams, Declarations: map[uint]string{}, Scores: map[uint]map[uint]float64{},
		Reports: map[uint]StageReport{}}
	var ds []StageDeclaration
	if err := tx.Where("evaluator_id = ?", e.ID).Find(&ds).Error; err != nil {
		return nil, err
	}
	for _, d := range ds {
		ev.Declarations[d.OrganisationID] = d.Conflict
	}
	var ss []StageScore
	if err := tx.Where("evaluator_id = ?", e.ID).Find(&ss).Error; err != nil {
		return nil, err
	}
	for _, sc := range ss {
		if ev.Scores[sc.OrganisationID] == nil {
			ev.Scores[sc.OrganisationID] = map[uint]float64{}
		}
		ev.Scores[sc.OrganisationID][sc.CriterionID] = sc.Value
	}
	var reps []StageReport
	if err := tx.Preload("Files.File").Where("stage_id = ?", stageID).Find(&reps).Error; err != nil {
		return nil, err
	}
	for _, r := range reps {
		ev.Reports[r.OrganisationID] = r
	}
	return ev, nil
}

// evaluatorFor loads the user's evaluator row and the stage for a write,
// checking that the team is one the stage evaluates.
func evaluatorFor(ctx context.Context, tx *gorm.DB, stageID, orgID uint, by *User, now time.Time) (*Stage, *StageEvaluator, error) {
	s, err := lockStage(ctx, tx, stageID, now)
	if err != nil {
		return nil, nil, err
	}
	var e StageEvaluator
	if err := tx.Where("stage_id = ? AND user_id = ?", stageID, by.ID).Take(&e).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, fmt.Errorf("store: stage %d: %w: %w", stageID, ErrForbidden, ErrNotEvaluator)
		}
		return nil, nil, err
	}
	teams, err := StageTeams(ctx, tx, s)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(teams, func(t StageTeam) bool { return t.Organisation.ID == orgID }) {
		return nil, nil, fmt.Errorf("store: stage %d does not evaluate organisation %d: %w", stageID, orgID, ErrNotFound)
	}
	if s.DecisionID != nil {
		return nil, nil, fmt.Errorf("store: stage %d decided: %w", stageID, ErrInvalidTransition)
	}
	return s, &e, nil
}

// DeclareStageConflict records the evaluator's declaration for one team:
// ConflictNone or ConflictRecused, once.
func DeclareStageConflict(ctx context.Context, db *gorm.DB, stageID, orgID uint, conflict string, by *User, now time.Time) error {
	if conflict != ConflictNone && conflict != ConflictRecused {
		return fmt.Errorf("store: declare conflict: %w", ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, e, err := evaluatorFor(ctx, tx, stageID, orgID, by, now)
		if err != nil {
			return err
		}
		d := StageDeclaration{EvaluatorID: e.ID, OrganisationID: orgID, Conflict: conflict, DeclaredAt: now.UTC()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&d)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: declare conflict: declared already: %w", ErrConflict)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.conflict", "stage", fmt.Sprint(stageID),
			fmt.Sprintf("evaluator %d, organisation %d: %s", by.ID, orgID, conflict), now)
	})
}

// SaveStageScores upserts the evaluator's scores of one team on the
// scored criteria of a frozen set, after a declaration of no conflict.
// values maps criterion ID → the value as typed; every scored criterion
// must have one, between 0 and its scale.
func SaveStageScores(ctx context.Context, db *gorm.DB, stageID, orgID uint, values map[uint]string, by *User, now time.Time) (FieldErrors, error) {
	errs := FieldErrors{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, e, err := evaluatorFor(ctx, tx, stageID, orgID, by, now)
		if err != nil {
			return err
		}
		if !s.Frozen() {
			return fmt.Errorf("store: scores: stage %d not frozen: %w", stageID, ErrInvalidTransition)
		}
		var d StageDeclaration
		err = tx.Where("evaluator_id = ? AND organisation_id = ?", e.ID, orgID).Take(&d).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return fmt.Errorf("store: scores: %w", ErrConflictNotStated)
		case err != nil:
			return err
		case d.Conflict == ConflictRecused:
			return fmt.Errorf("store: scores: %w", ErrRecused)
		}
		parsed := map[uint]float64{}
		for _, c := range s.Criteria {
			if c.Imported {
				continue
			}
			field := fmt.Sprintf("score.%d", c.ID)
			v, err := strconv.ParseFloat(strings.TrimSpace(values[c.ID]), 64)
			if err != nil || v < 0 || v > c.Scale {
				errs.Add(field, "stage.error.score")
				continue
			}
			parsed[c.ID] = v
		}
		if errs.Any() {
			return fmt.Errorf("store: scores: %w", ErrInvalid)
		}
		for cid, v := range parsed {
			sc := StageScore{EvaluatorID: e.ID, OrganisationID: orgID, CriterionID: cid, Value: v, UpdatedAt: now.UTC()}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "evaluator_id"}, {Name: "organisation_id"}, {Name: "criterion_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
			}).Create(&sc).Error; err != nil {
				return err
			}
		}
		return RecordAudit(ctx, tx, ActorOf(by), "stage.score", "stage", fmt.Sprint(stageID),
			fmt.Sprintf("evaluator %d, organisation %d: %d scores", by.ID, orgID, len(parsed)), now)
	})
	return errs, err
}

// CSVError is one problem of an imported file: its row (1 is the header)
// and column (1-based; 0 for the whole row), and a message ID.
type CSVError struct {
	Row, Column int
	Message     string
	Value       string
}

// StageCSVHeader is the header an imported results file must have.
var StageCSVHeader = []string{"team", "criterion", "value"}

// ErrCSVInvalid refuses a results file with at least one bad row.
var ErrCSVInvalid = errors.New("the file has errors; nothing was imported")

// ImportStageResults validates the whole file first and imports nothing
// unless every row is valid: a row names a team the stage evaluates (its
// organisation code), an imported criterion of the frozen set (its code)
// and a value between 0 and the criterion's scale, each pair once. A
// valid file replaces the results it names.
func ImportStageResults(ctx context.Context, db *gorm.DB, stageID uint, r io.Reader, by *User, now time.Time) ([]CSVError, int, error) {
	if err := ministryOnly(by, "import stage results"); err != nil {
		return nil, 0, err
	}
	var problems []CSVError
	n := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := lockStage(ctx, tx, stageID, now)
		if err != nil {
			return err
		}
		if !s.Frozen() {
			return fmt.Errorf("store: import results: stage %d not frozen: %w", stageID, ErrInvalidTransition)
		}
		if s.DecisionID != nil {
			return fmt.Errorf("store: import results: stage %d decided: %w", stageID, ErrInvalidTransition)
		}
		teams, err := StageTeams(ctx, tx, s)
		if err != nil {
			return err
		}
		var rows []StageResult
		rows, problems = parseStageCSV(r, s, teams)
		if len(problems) > 0 {
			return fmt.Errorf("store: import results: %w", ErrCSVInvalid)
		}
		for i := range rows {
			rows[i].StageID, rows[i].ImportedByID, rows[i].ImportedAt = s.ID, by.ID, now.UTC()
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "organisation_id"}, {Name: "criterion_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "imported_by_id", "imported_at"}),
			}).Create(&rows[i]).Error; err != nil {
				return err
			}
		}
		n = len(rows)
		return RecordAudit(ctx, tx, ActorOf(by), "stage.import", "stage", fmt.Sprint(s.ID),
			fmt.Sprintf("%d results imported", n), now)
	})
	return problems, n, err
}

// parseStageCSV reads and checks every row of a results file.
func parseStageCSV(r io.Reader, s *Stage, teams []StageTeam) ([]StageResult, []CSVError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	byCode := map[string]uint{}
	for _, t := range teams {
		byCode[strings.ToLower(t.Organisation.Code)] = t.Organisation.ID
	}
	crit := map[string]StageCriterion{}
	for _, c := range s.Criteria {
		crit[c.Code] = c
	}
	var out []StageResult
	var problems []CSVError
	seen := map[[2]uint]int{}
	row := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if err != nil {
			problems = append(problems, CSVError{Row: row, Message: "stage.csv.unreadable"})
			break
		}
		if row == 1 {
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			for i := range rec {
				rec[i] = strings.ToLower(strings.TrimSpace(rec[i]))
			}
			if !slices.Equal(rec, StageCSVHeader) {
				problems = append(problems, CSVError{Row: 1, Message: "stage.csv.header", Value: strings.Join(rec, ",")})
				return nil, problems
			}
			continue
		}
		if row > MaxStageCSVRows+1 {
			problems = append(problems, CSVError{Row: row, Message: "stage.csv.too_many"})
			break
		}
		if len(rec) != len(StageCSVHeader) {
			problems = append(problems, CSVError{Row: row, Message: "stage.csv.fields"})
			continue
		}
		orgID, ok := byCode[strings.ToLower(strings.TrimSpace(rec[0]))]
		if !ok {
			problems = append(problems, CSVError{Row: row, Column: 1, Message: "stage.csv.team", Value: rec[0]})
		}
		c, cok := crit[strings.ToLower(strings.TrimSpace(rec[1]))]
		switch {
		case !cok:
			problems = append(problems, CSVError{Row: row, Column: 2, Message: "stage.csv.criterion", Value: rec[1]})
		case !c.Imported:
			problems = append(problems, CSVError{Row: row, Column: 2, Message: "stage.csv.scored", Value: rec[1]})
			cok = false
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		vok := err == nil && v >= 0 && (!cok || v <= c.Scale)
		if !vok {
			problems = append(problems, CSVError{Row: row, Column: 3, Message: "stage.csv.value", Value: rec[2]})
		}
		if ok && cok {
			key := [2]uint{orgID, c.ID}
			if first, dup := seen[key]; dup {
				problems = append(problems, CSVError{Row: row, Column: 0, Message: "stage.csv.duplicate", Value: strconv.Itoa(first)})
				continue
			}
			seen[key] = row
		}
		if ok && cok && vok {
			out = append(out, StageResult{OrganisationID: orgID, CriterionID: c.ID, Value: v})
		}
	}
	if row <= 1 && len(problems) == 0 {
		problems = append(problems, CSVError{Row: 1, Message: "stage.csv.empty"})
	}
	for i := range problems {
		problems[i].Value = truncateRunes(problems[i].Value, 80)
	}
	return out, problems
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// StageStanding is a stage's ranking with its teams, as the officers'
// page and the public page show it.
type StageStanding struct {
	Teams   map[uint]StageTeam
	Ranking []StageRanked
	Results map[uint]map[uint]float64 // organisation → imported criterion → value
}

// RankStageTeams ranks the stage's teams from the evaluators' scores (of
// evaluators who declared no conflict with the team) and the imported
// results.
func RankStageTeams(ctx context.Context, db *gorm.DB, s *Stage) (*StageStanding, error) {
	tx := db.WithContext(ctx)
	teams, err := StageTeams(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	var scores []StageScore
	if err := tx.Table("stage_scores").Select("stage_scores.*").
		Joins("JOIN stage_evaluators e ON e.id = stage_scores.evaluator_id").
		Joins("JOIN stage_declarations d ON d.evaluator_id = stage_scores.evaluator_id AND d.organisation_id = stage_scores.organisation_id").
		Where("e.stage_id = ? AND d.conflict = ?", s.ID, ConflictNone).Find(&scores).Error; err != nil {
		return nil, fmt.Errorf("store: stage scores: %w", err)
	}
	var results []StageResult
	if err := tx.Where("stage_id = ?", s.ID).Find(&results).Error; err != nil {
		return nil, err
	}
	st := &StageStanding{Teams: map[uint]StageTeam{}, Results: map[uint]map[uint]float64{}}
	sheets := make([]StageSheet, 0, len(teams))
	idx := map[uint]int{}
	for _, t := range teams {
		st.Teams[t.Organisation.ID] = t
		idx[t.Organisation.ID] = len(sheets)
		sheets = append(sheets, StageSheet{OrganisationID: t.Organisation.ID, AgreementNumber: t.AgreementNumber,
			Scores: map[uint][]float64{}, Results: map[uint]float64{}})
	}
	for _, sc := range scores {
		if i, ok := idx[sc.OrganisationID]; ok {
			sheets[i].Scores[sc.CriterionID] = append(sheets[i].Scores[sc.CriterionID], sc.Value)
		}
	}
	for _, r := range results {
		if i, ok := idx[r.OrganisationID]; ok {
			sheets[i].Results[r.CriterionID] = r.Value
			if st.Results[r.OrganisationID] == nil {
				st.Results[r.OrganisationID] = map[uint]float64{}
			}
			st.Results[r.OrganisationID][r.CriterionID] = r.Value
		}
	}
	st.Ranking = RankStage(s.Criteria, sheets, s.Eliminate)
	return st, nil
}

// StageReportFileFor loads a document of a stage report for u: whoever may
// see the team's data (the team, the ministry, auditors) and the stage's
// evaluators; "not found" to anyone else, so that nobody learns it exists.
func StageReportFileFor(ctx context.Context, db *gorm.DB, stageID, reportID, fileID uint, u *User) (*StoredFile, error) {
	tx := db.WithContext(ctx)
	var rep StageReport
	if err := tx.Where("id = ? AND stage_id = ?", reportID, stageID).Take(&rep).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: stage report %d", reportID), err)
	}
	if !u.MaySeeOrganisation(rep.OrganisationID) {
		var n int64
		if err := tx.Model(&StageEvaluator{}).Where("stage_id = ? AND user_id = ?", stageID, u.ID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("store: stage report %d: %w", reportID, ErrNotFound)
		}
	}
	var rf StageReportFile
	if err := tx.Preload("File").Where("id = ? AND report_id = ?", fileID, reportID).Take(&rf).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: stage report file %d", fileID), err)
	}
	return &rf.File, nil
}
