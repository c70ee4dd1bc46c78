package models

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Stage evaluations (단계평가). Every six months from the agreements' start
// a stage evaluates the teams in force against its own criteria set (the
// "moving target"). Officers propose the set and publish it for the teams'
// opinions until a closing instant; they answer the opinions and freeze the
// set, which is immutable from then on (its revisions before the freeze
// are kept). Teams submit a stage report by a due date. Evaluators
// (officers and external reviewers assigned to the stage) score the scored
// criteria after declaring their conflicts of interest per team;
// benchmark and public-evaluation results are imported from CSV. The
// ranking by weighted score decides who is eliminated (the stage's number
// to eliminate); the stage decision is a Decision of kind stage, appealed
// like a selection, and once final it ends the eliminated teams' standing
// (FinaliseStageDecisions).

// CriterionKind is where a stage criterion comes from.
type CriterionKind string

// Criterion kinds.
const (
	KindCarried         CriterionKind = "carried"          // carried over from the earlier stage
	KindGlobalBenchmark CriterionKind = "global_benchmark" // 글로벌 벤치마크
	KindGovDataset      CriterionKind = "gov_dataset"      // 정부 데이터셋 벤치마크
	KindPublicEval      CriterionKind = "public_eval"      // 대국민 평가
	KindOfficer         CriterionKind = "officer"          // added by the officers
)

// CriterionKinds lists the kinds in the order the forms offer them.
var CriterionKinds = []CriterionKind{KindCarried, KindGlobalBenchmark, KindGovDataset, KindPublicEval, KindOfficer}

// Valid reports whether k is a known kind.
func (k CriterionKind) Valid() bool {
	for _, v := range CriterionKinds {
		if k == v {
			return true
		}
	}
	return false
}

// importedByDefault reports whether results of a new criterion of kind k
// come from an imported file rather than evaluators' scores.
func (k CriterionKind) importedByDefault() bool {
	return k == KindGlobalBenchmark || k == KindGovDataset || k == KindPublicEval
}

// Stage-evaluation limits.
const (
	MaxStageName        = 200   // Stage.NameKO, NameEN, StageCriterion.NameKO, NameEN: varchar(200)
	MaxCriterionCode    = 40    // StageCriterion.Code: varchar(40)
	MaxStageText        = 10000 // opinions, answers, report texts
	MaxServiceURL       = 500   // StageReport.ServiceURL: varchar(500)
	MaxStageCSVRows     = 2000  // rows of one results file
	DefaultStageScale   = 100   // a criterion's scale when none is given
	StageIntervalMonths = 6     // stages every six months by default
	MaxReportDocuments  = 10    // files of one stage report
)

// Errors of stage evaluations.
var (
	ErrStageFrozen  = errors.New("the stage's criteria are frozen")
	ErrStageClosed  = errors.New("the stage's period is closed")
	ErrNotEvaluator = errors.New("not an evaluator of this stage")
	ErrNoStanding   = errors.New("the team has no agreement in force")
)

// StageClosedError carries the closing instant that was missed, for the
// message (shown in KST to the second).
type StageClosedError struct {
	What   string // "opinions" or "report"
	Closes time.Time
}

func (e *StageClosedError) Error() string {
	return fmt.Sprintf("the stage's %s closed at %s", e.What, e.Closes.In(KST).Format("2006-01-02 15:04:05 KST"))
}

// Is makes errors.Is(err, ErrStageClosed) true.
func (e *StageClosedError) Is(target error) bool { return target == ErrStageClosed }

// Stage is one stage evaluation of the programme.
type Stage struct {
	ID          uint   `gorm:"primaryKey"`
	ProgrammeID uint   `gorm:"not null;index"`
	Number      int    `gorm:"not null"`
	NameKO      string `gorm:"size:200;not null"`
	NameEN      string `gorm:"size:200;not null"`
	StartsOn    string `gorm:"size:10;not null"` // the first day the stage's period covers
	EvaluatedOn string `gorm:"size:10;not null"` // the evaluation day
	ReportDue   *time.Time
	Eliminate   int `gorm:"not null;default:0"`
	// OpinionsClose is set when the proposed set is published to the teams.
	OpinionsOpened *time.Time
	OpinionsClose  *time.Time
	FrozenAt       *time.Time
	FrozenByID     *uint
	Revision       int   `gorm:"not null;default:0"` // the criteria set's revision
	DecisionID     *uint `gorm:"index"`
	// FinalAt is when FinaliseStageDecisions ended the eliminated teams'
	// standing (set once, in the same transaction).
	FinalAt   *time.Time
	Criteria  []StageCriterion `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StageCriterion is one criterion of a stage's set, with its weight (the
// weights of a set add up to 100) and scale (the highest value a score or
// an imported result may have).
type StageCriterion struct {
	ID       uint          `gorm:"primaryKey"`
	StageID  uint          `gorm:"not null;index;uniqueIndex:idx_stage_criterion_code"`
	Code     string        `gorm:"size:40;not null;uniqueIndex:idx_stage_criterion_code"`
	Kind     CriterionKind `gorm:"size:24;not null"`
	Imported bool          `gorm:"not null"` // results come from an imported file, not from evaluators
	NameKO   string        `gorm:"size:200;not null"`
	NameEN   string        `gorm:"size:200;not null"`
	Weight   float64       `gorm:"not null"`
	Scale    float64       `gorm:"not null"`
	Position int           `gorm:"not null"`
}

// StageRevision is one revision of a stage's criteria set before (and at)
// its freeze: the set as it then stood, one criterion a line.
type StageRevision struct {
	ID       uint      `gorm:"primaryKey"`
	StageID  uint      `gorm:"not null;uniqueIndex:idx_stage_revision"`
	Revision int       `gorm:"not null;uniqueIndex:idx_stage_revision"`
	Change   string    `gorm:"type:text;not null"`
	Set      string    `gorm:"type:text;not null"`
	ByID     uint      `gorm:"not null"`
	By       User      `gorm:"constraint:OnDelete:RESTRICT"`
	At       time.Time `gorm:"not null"`
}

// StageOpinion is a team's opinion on the proposed set, and the officers'
// answer.
type StageOpinion struct {
	ID             uint         `gorm:"primaryKey"`
	StageID        uint         `gorm:"not null;index"`
	OrganisationID uint         `gorm:"not null;index"`
	Organisation   Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	ByID           uint         `gorm:"not null"`
	Text           string       `gorm:"type:text;not null"`
	SentAt         time.Time    `gorm:"not null"`
	Answer         string       `gorm:"type:text;not null;default:''"`
	AnsweredByID   *uint
	AnsweredAt     *time.Time
}

// StageReport is a team's stage report: the model versions evaluated, the
// public service, and documents.
type StageReport struct {
	ID                 uint              `gorm:"primaryKey"`
	StageID            uint              `gorm:"not null;uniqueIndex:idx_stage_report_team"`
	OrganisationID     uint              `gorm:"not null;uniqueIndex:idx_stage_report_team"`
	Organisation       Organisation      `gorm:"constraint:OnDelete:RESTRICT"`
	ModelVersions      string            `gorm:"type:text;not null"`
	ServiceName        string            `gorm:"size:200;not null"`
	ServiceURL         string            `gorm:"size:500;not null"`
	ServiceDescription string            `gorm:"type:text;not null"`
	SubmittedByID      uint              `gorm:"not null"`
	SubmittedAt        time.Time         `gorm:"not null"`
	Files              []StageReportFile `gorm:"foreignKey:ReportID;constraint:OnDelete:CASCADE"`
}

// StageReportFile is a document of a stage report.
type StageReportFile struct {
	ID       uint       `gorm:"primaryKey"`
	ReportID uint       `gorm:"not null;index"`
	FileID   uint       `gorm:"not null"`
	File     StoredFile `gorm:"constraint:OnDelete:RESTRICT"`
}

// StageEvaluator assigns a user (an officer or an external reviewer) to
// evaluate a stage.
type StageEvaluator struct {
	ID        uint      `gorm:"primaryKey"`
	StageID   uint      `gorm:"not null;uniqueIndex:idx_stage_evaluator"`
	UserID    uint      `gorm:"not null;uniqueIndex:idx_stage_evaluator;index"`
	User      User      `gorm:"constraint:OnDelete:RESTRICT"`
	CreatedAt time.Time `gorm:"not null"`
	// DueOn is the last day (KST, 2006-01-02) by which the evaluator is to
	// have scored: set by the officer when assigning, else
	// DefaultEvaluationDue.
	DueOn string `gorm:"size:10;not null;default:''"`
}

// StageDeclaration is an evaluator's conflict-of-interest declaration for
// one team (ConflictNone or ConflictRecused); made once.
type StageDeclaration struct {
	ID             uint      `gorm:"primaryKey"`
	EvaluatorID    uint      `gorm:"not null;uniqueIndex:idx_stage_declaration"`
	OrganisationID uint      `gorm:"not null;uniqueIndex:idx_stage_declaration"`
	Conflict       string    `gorm:"size:16;not null"`
	DeclaredAt     time.Time `gorm:"not null"`
}

// StageScore is an evaluator's score of one team on one scored criterion.
type StageScore struct {
	ID             uint    `gorm:"primaryKey"`
	EvaluatorID    uint    `gorm:"not null;uniqueIndex:idx_stage_score"`
	OrganisationID uint    `gorm:"not null;uniqueIndex:idx_stage_score"`
	CriterionID    uint    `gorm:"not null;uniqueIndex:idx_stage_score"`
	Value          float64 `gorm:"not null"`
	UpdatedAt      time.Time
}

// StageResult is an imported result of one team on one imported criterion.
type StageResult struct {
	ID             uint      `gorm:"primaryKey"`
	StageID        uint      `gorm:"not null;index"`
	OrganisationID uint      `gorm:"not null;uniqueIndex:idx_stage_result"`
	CriterionID    uint      `gorm:"not null;uniqueIndex:idx_stage_result"`
	Value          float64   `gorm:"not null"`
	ImportedByID   uint      `gorm:"not null"`
	ImportedAt     time.Time `gorm:"not null"`
}

// Frozen reports whether the stage's criteria set is frozen.
func (s *Stage) Frozen() bool { return s.FrozenAt != nil }

// OpinionsOpen reports whether teams may send opinions at now.
func (s *Stage) OpinionsOpen(now time.Time) bool {
	return s.OpinionsClose != nil && !s.Frozen() && now.Before(*s.OpinionsClose)
}

// ReportsOpen reports whether teams may submit their stage report at now.
func (s *Stage) ReportsOpen(now time.Time) bool {
	return s.ReportDue != nil && now.Before(*s.ReportDue)
}

// Phase is where the stage stands at now, for the pages.
func (s *Stage) Phase(now time.Time) string {
	switch {
	case s.FinalAt != nil:
		return "final"
	case s.DecisionID != nil:
		return "decided"
	case s.Frozen():
		return "frozen"
	case s.OpinionsClose != nil && now.Before(*s.OpinionsClose):
		return "opinions"
	case s.OpinionsClose != nil:
		return "opinions_closed"
	}
	return "draft"
}

// WeightTotal is the sum of the criteria's weights.
func WeightTotal(cs []StageCriterion) float64 {
	var t float64
	for _, c := range cs {
		t += c.Weight
	}
	return math.Round(t*1e6) / 1e6
}

// CheckSet checks that a set can be published or frozen: at least one
// criterion, weights adding up to 100.
func CheckSet(cs []StageCriterion) FieldErrors {
	errs := FieldErrors{}
	if len(cs) == 0 {
		errs.Add("criteria", "stage.error.no_criteria")
	} else if WeightTotal(cs) != 100 {
		errs.Add("criteria", "stage.error.weights")
	}
	return errs
}

// setText writes a set one criterion a line, as its revisions keep it.
func setText(cs []StageCriterion) string {
	var b strings.Builder
	for _, c := range cs {
		src := "scored"
		if c.Imported {
			src = "imported"
		}
		fmt.Fprintf(&b, "%s | %s | %s / %s | weight %g | scale %g | %s\n", c.Code, c.Kind, c.NameKO, c.NameEN, c.Weight, c.Scale, src)
	}
	return b.String()
}

// StageSheet is what ranking needs of one team: its scored criteria's
// scores (by criterion, one per evaluator who declared no conflict), its
// imported results, and its agreement number for the tie-break.
type StageSheet struct {
	OrganisationID  uint
	AgreementNumber string
	Scores          map[uint][]float64
	Results         map[uint]float64
}

// StageRanked is one team's place in a stage's ranking.
type StageRanked struct {
	OrganisationID uint
	Rank           int
	Total          float64
	PerCriterion   map[uint]float64 // criterion ID → weighted points
	Missing        int              // criteria without a score or result
	TieBreak       string           // which rule separated it from the one above, if a tie
	Eliminated     bool
}

// StageTieBreakRule is how equal totals are ordered.
const StageTieBreakRule = "total, then the points of the highest-weighted criterion (the first listed among equal weights), then the earlier agreement number"

// RankStage orders the teams by weighted score: a criterion's points are
// weight × value ÷ scale, value being the mean of the evaluators' scores
// (scored criteria) or the imported result; the total is their sum
// (0–100). Ties are broken by StageTieBreakRule. The last eliminate teams
// are marked eliminated.
func RankStage(criteria []StageCriterion, sheets []StageSheet, eliminate int) []StageRanked {
	var top StageCriterion
	for _, c := range criteria {
		if top.ID == 0 || c.Weight > top.Weight || (c.Weight == top.Weight && c.Position < top.Position) {
			top = c
		}
	}
	number := map[uint]string{}
	out := make([]StageRanked, 0, len(sheets))
	for _, s := range sheets {
		number[s.OrganisationID] = s.AgreementNumber
		r := StageRanked{OrganisationID: s.OrganisationID, PerCriterion: map[uint]float64{}}
		for _, c := range criteria {
			var v float64
			if c.Imported {
				x, ok := s.Results[c.ID]
				if !ok {
					r.Missing++
					continue
				}
				v = x
			} else {
				vals := s.Scores[c.ID]
				if len(vals) == 0 {
					r.Missing++
					continue
				}
				for _, x := range vals {
					v += x
				}
				v /= float64(len(vals))
			}
			if c.Scale <= 0 {
				continue
			}
			pts := round6(c.Weight * v / c.Scale)
			r.PerCriterion[c.ID] = pts
			r.Total += pts
		}
		r.Total = round6(r.Total)
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		if pa, pb := a.PerCriterion[top.ID], b.PerCriterion[top.ID]; pa != pb {
			return pa > pb
		}
		return number[a.OrganisationID] < number[b.OrganisationID]
	})
	for i := range out {
		out[i].Rank = i + 1
		out[i].Eliminated = i >= len(out)-eliminate
		if i > 0 && out[i].Total == out[i-1].Total {
			if out[i].PerCriterion[top.ID] != out[i-1].PerCriterion[top.ID] {
				out[i].TieBreak = "criterion"
			} else {
				out[i].TieBreak = "agreement"
			}
		}
	}
	return out
}

// DefaultStageDates proposes the stages' evaluation days: every six months
// from the agreements' start, up to its end.
func DefaultStageDates(start, end Date) []Date {
	var out []Date
	for i := 1; ; i++ {
		d := NewDate(start.Year, start.Month+time.Month(StageIntervalMonths*i), start.Day)
		if d.After(end) {
			return out
		}
		out = append(out, d)
	}
}

// TableName fixes the table's name (the plural gorm would derive is not
// the one the migration and the data version list).
func (StageCriterion) TableName() string { return "stage_criteria" }
