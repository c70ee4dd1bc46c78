package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Talent support (인재 지원): lines per team and half-year — researchers
// funded, training places, hires — each a count with its evidence file,
// so that data, talent and GPU support can be reported together.
// Officers record them; the team reads its own.

// ActionTalentRecord is the audit action of a talent line.
const ActionTalentRecord = "talent.record"

// TalentKind is a kind of talent support.
type TalentKind string

// Kinds of talent support.
const (
	TalentResearchers TalentKind = "researchers_funded"
	TalentTraining    TalentKind = "training_places"
	TalentHires       TalentKind = "hires"
)

// TalentKinds lists every kind.
var TalentKinds = []TalentKind{TalentResearchers, TalentTraining, TalentHires}

// periodPattern is a half-year: "2025-H2".
var periodPattern = regexp.MustCompile(`^20[0-9]{2}-H[12]$`)

// TalentLine is one count of talent support for a team in a half-year.
type TalentLine struct {
	ID             uint         `gorm:"primaryKey"`
	OrganisationID uint         `gorm:"not null;index"`
	Organisation   Organisation `gorm:"foreignKey:OrganisationID"`
	Kind           TalentKind   `gorm:"size:32;not null"`
	Period         string       `gorm:"size:7;not null"` // "2025-H2"
	Count          int          `gorm:"not null"`
	Note           string       `gorm:"type:text;not null;default:''"`
	EvidenceID     *uint
	Evidence       *StoredFile `gorm:"foreignKey:EvidenceID"`
	RecordedByID   uint        `gorm:"not null"`
	CreatedAt      time.Time
}

// MaySee reports whether u may read the line and its evidence.
func (l *TalentLine) MaySee(u *User) bool { return u.MaySeeOrganisation(l.OrganisationID) }

// TalentInput is the form of a talent line as sent.
type TalentInput struct {
	OrganisationID, Kind, Period, Count, Note string
	Evidence                                  *UploadedFile // optional
	Files                                     *FileStore
	Uploads                                   UploadPolicy
}

// RecordTalent records a talent line for a team (an organisation with an
// agreement in force), storing its evidence file once the form is valid;
// the file is checked like every upload (size, sniffed kind).
func RecordTalent(ctx context.Context, db *gorm.DB, in TalentInput, by *User, now time.Time) (*TalentLine, error) {
	errs := FieldErrors{}
	l := &TalentLine{Kind: TalentKind(in.Kind), Period: strings.TrimSpace(in.Period), Note: strings.TrimSpace(in.Note),
		RecordedByID: by.ID, CreatedAt: now.UTC()}
	if !slices.Contains(TalentKinds, l.Kind) {
		errs.Add("kind", "support.error.kind")
	}
	if !periodPattern.MatchString(l.Period) {
		errs.Add("period", "support.error.period")
	}
	n, err := strconv.Atoi(strings.TrimSpace(in.Count))
	if err != nil || n < 0 || n > 1_000_000 {
		errs.Add("count", "support.error.count")
	}
	l.Count = n
	ids := parseIDs(errs, "organisation_id", []string{in.OrganisationID})
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(ids) == 1 {
			switch err := checkTeam(ctx, tx, ids[0], now); {
			case errors.Is(err, ErrNotTeam):
				errs.Add("organisation_id", "support.error.not_team")
			case err != nil:
				return err
			}
			l.OrganisationID = ids[0]
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		if in.Evidence != nil && in.Files != nil {
			r, err := in.Evidence.Open()
			if err != nil {
				return err
			}
			defer r.Close()
			f, err := in.Files.Save(ctx, tx, in.Evidence.Name, r, in.Uploads, by.ID, now.UTC())
			switch {
			case errors.Is(err, ErrUploadTooLarge):
				return &FieldsError{Fields: FieldErrors{"evidence": "support.error.evidence_size"}}
			case errors.Is(err, ErrUploadType), errors.Is(err, ErrUploadEmpty):
				return &FieldsError{Fields: FieldErrors{"evidence": "support.error.evidence_type"}}
			case err != nil:
				return err
			}
			l.EvidenceID, l.Evidence = &f.ID, f
		}
		if err := tx.Create(l).Error; err != nil {
			return fmt.Errorf("store: record talent line: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionTalentRecord, "talent_line", fmt.Sprint(l.ID),
			fmt.Sprintf("organisation %d, %s %s: %d", l.OrganisationID, l.Period, l.Kind, l.Count), now)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// GetTalentLine loads a talent line with its evidence.
func GetTalentLine(ctx context.Context, db *gorm.DB, id uint) (*TalentLine, error) {
	var l TalentLine
	if err := db.WithContext(ctx).Preload("Evidence").Preload("Organisation").First(&l, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: talent line %d", id), err)
	}
	return &l, nil
}

// ListTalent returns the talent lines u may see, by period, team and kind.
func ListTalent(ctx context.Context, db *gorm.DB, u *User) ([]TalentLine, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Organisation").Preload("Evidence")
	if own != nil {
		q = q.Where("organisation_id = ?", *own)
	}
	var out []TalentLine
	if err := q.Order("period DESC, organisation_id, kind, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: talent lines: %w", err)
	}
	return out, nil
}
