package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// dataTables are the tables of data support.
var dataTables = []string{"data_surveys", "data_demands", "data_sources", "data_purchases",
	"data_purchase_sources", "data_deliveries"}

// OpenSurvey opens a demand survey.
func OpenSurvey(ctx context.Context, db *gorm.DB, in SurveyInput, by *User, now time.Time) (*DataSurvey, error) {
	s, errs := in.Check(now)
	if errs.Any() {
		return nil, &FieldsError{Fields: errs}
	}
	s.CreatedByID, s.CreatedAt = by.ID, now.UTC()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(s).Error; err != nil {
			return fmt.Errorf("store: open survey: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionSurveyOpen, "data_survey", fmt.Sprint(s.ID),
			fmt.Sprintf("survey %q open until %s", s.Title, FormatInstant(s.ClosesAt)), now)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ListSurveys returns every survey, the latest closing first.
func ListSurveys(ctx context.Context, db *gorm.DB) ([]DataSurvey, error) {
	var out []DataSurvey
	if err := db.WithContext(ctx).Order("closes_at DESC, id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: surveys: %w", err)
	}
	return out, nil
}

// GetSurvey loads a survey. Every signed-in role may read a survey itself
// (its title and closing instant); its demand is scoped (SurveyDemand).
func GetSurvey(ctx context.Context, db *gorm.DB, id uint) (*DataSurvey, error) {
	var s DataSurvey
	if err := db.WithContext(ctx).First(&s, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: survey %d", id), err)
	}
	return &s, nil
}

// SurveyDemand returns the survey's demand lines that u may see (the
// ministry and auditors all of them, a team its own), by team then id.
func SurveyDemand(ctx context.Context, db *gorm.DB, surveyID uint, u *User) ([]DataDemand, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Organisation").Where("survey_id = ?", surveyID)
	if own != nil {
		q = q.Where("organisation_id = ?", *own)
	}
	var out []DataDemand
	if err := q.Order("organisation_id, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: demand of survey %d: %w", surveyID, err)
	}
	return out, nil
}

// checkTeam refuses an organisation without an agreement in force today.
func checkTeam(ctx context.Context, tx *gorm.DB, orgID uint, now time.Time) error {
	today := DateOf(now)
	_, err := CheckStanding(ctx, tx, orgID, today, today)
	if errors.Is(err, ErrNoAgreement) || errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: organisation %d: %w", orgID, ErrNotTeam)
	}
	return err
}

// FileDemand files a team's demand line in the survey, before its closing
// instant (to the second): refused with ErrSurveyClosed at or after it,
// with ErrNotTeam for a user whose organisation is not a team.
func FileDemand(ctx context.Context, db *gorm.DB, surveyID uint, in DemandInput, by *User, now time.Time) (*DataDemand, error) {
	if by == nil || by.Role != RoleCompany || by.OrganisationID == nil {
		return nil, ErrNotTeam
	}
	d, errs := in.Check()
	var out *DataDemand
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s, err := GetSurvey(ctx, tx, surveyID)
		if err != nil {
			return err
		}
		if !s.OpenAt(now) {
			return fmt.Errorf("store: survey %d closed at %s: %w", s.ID, FormatInstant(s.ClosesAt), ErrSurveyClosed)
		}
		if err := checkTeam(ctx, tx, *by.OrganisationID, now); err != nil {
			return err
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		d.SurveyID, d.OrganisationID, d.FiledByID, d.CreatedAt = s.ID, *by.OrganisationID, by.ID, now.UTC()
		if err := tx.Create(d).Error; err != nil {
			return fmt.Errorf("store: file demand: %w", err)
		}
		out = d
		return RecordAudit(ctx, tx, ActorOf(by), ActionDemandFile, "data_survey", fmt.Sprint(s.ID),
			fmt.Sprintf("demand %d of organisation %d: %s (%s)", d.ID, d.OrganisationID, d.Dataset, d.Provider), now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListSources returns the clearance ledger: public institutions first, then
// by rights holder and name.
func ListSources(ctx context.Context, db *gorm.DB) ([]DataSource, error) {
	var out []DataSource
	err := db.WithContext(ctx).Order("public_institution DESC, rights_holder, name, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: data sources: %w", err)
	}
	return out, nil
}

// RecordSource adds a source to the ledger.
func RecordSource(ctx context.Context, db *gorm.DB, in SourceInput, by *User, now time.Time) (*DataSource, error) {
	s, errs := in.Check()
	if errs.Any() {
		return nil, &FieldsError{Fields: errs}
	}
	s.UpdatedAt = now.UTC()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(s).Error; err != nil {
			return fmt.Errorf("store: record source: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionSourceRecord, "data_source", fmt.Sprint(s.ID),
			fmt.Sprintf("source %q of %s: %s", s.Name, s.RightsHolder, s.Status), now)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// UpdateSource records a new state of a ledger entry (status, terms, uses,
// expiry), with the before and after in the audit trail.
func UpdateSource(ctx context.Context, db *gorm.DB, id uint, in SourceInput, by *User, now time.Time) (*DataSource, error) {
	s, errs := in.Check()
	if errs.Any() {
		return nil, &FieldsError{Fields: errs}
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old DataSource
		if err := tx.First(&old, id).Error; err != nil {
			return notFound(fmt.Sprintf("store: source %d", id), err)
		}
		s.ID, s.UpdatedAt = id, now.UTC()
		if err := tx.Select("*").Save(s).Error; err != nil {
			return fmt.Errorf("store: update source %d: %w", id, err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionSourceUpdate, "data_source", fmt.Sprint(id),
			fmt.Sprintf("source %q: %s %v until %q → %s %v until %q", s.Name, old.Status, old.Uses(), old.ExpiresOn,
				s.Status, s.Uses(), s.ExpiresOn), now)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// GetSource loads a ledger entry.
func GetSource(ctx context.Context, db *gorm.DB, id uint) (*DataSource, error) {
	var s DataSource
	if err := db.WithContext(ctx).First(&s, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: source %d", id), err)
	}
	return &s, nil
}

// parseIDs reads a list of ids; a bad one is a field error.
func parseIDs(errs FieldErrors, field string, vs []string) []uint {
	var out []uint
	for _, v := range vs {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil || n == 0 {
			errs.Add(field, "support.error.choice")
			continue
		}
		if !slices.Contains(out, uint(n)) {
			out = append(out, uint(n))
		}
	}
	return out
}

// RecordPurchase records a joint purchase with its sources and the teams
// that get it (a planned delivery each); surveyID is the survey it answers
// (0 for none). Every team must hold an agreement in force.
func RecordPurchase(ctx context.Context, db *gorm.DB, surveyID uint, in PurchaseInput, by *User, now time.Time) (*DataPurchase, error) {
	errs := FieldErrors{}
	p := &DataPurchase{Dataset: textField(errs, "dataset", in.Dataset, 200), Provider: textField(errs, "provider", in.Provider, 200),
		Contract: textField(errs, "contract", in.Contract, 100), Price: wonField(errs, "price", in.Price),
		LicenceTerms: textField(errs, "licence_terms", in.LicenceTerms, 4000), Use: DataUse(in.Use),
		CreatedByID: by.ID, CreatedAt: now.UTC()}
	if !slices.Contains(DataUses, p.Use) {
		errs.Add("use", "support.error.use")
	}
	sourceIDs, teamIDs := parseIDs(errs, "sources", in.Sources), parseIDs(errs, "teams", in.Teams)
	if len(sourceIDs) == 0 {
		errs.Add("sources", "support.error.sources")
	}
	if len(teamIDs) == 0 {
		errs.Add("teams", "support.error.teams")
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if surveyID != 0 {
			if _, err := GetSurvey(ctx, tx, surveyID); err != nil {
				return err
			}
			p.SurveyID = &surveyID
		}
		if len(sourceIDs) > 0 {
			if err := tx.Where("id IN ?", sourceIDs).Order("id").Find(&p.Sources).Error; err != nil {
				return fmt.Errorf("store: purchase sources: %w", err)
			}
			if len(p.Sources) != len(sourceIDs) {
				errs.Add("sources", "support.error.choice")
			}
		}
		for _, id := range teamIDs {
			err := checkTeam(ctx, tx, id, now)
			if errors.Is(err, ErrNotTeam) {
				errs.Add("teams", "support.error.not_team")
				continue
			}
			if err != nil {
				return err
			}
			p.Deliveries = append(p.Deliveries, DataDelivery{OrganisationID: id})
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		if err := tx.Create(p).Error; err != nil {
			return fmt.Errorf("store: record purchase: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionPurchaseRecord, "data_purchase", fmt.Sprint(p.ID),
			fmt.Sprintf("purchase of %s (%s), contract %s, %d won, for %s, %d sources, teams %v",
				p.Dataset, p.Provider, p.Contract, p.Price, p.Use, len(p.Sources), teamIDs), now)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// loadPurchase loads a purchase with its sources and deliveries in tx.
func loadPurchase(ctx context.Context, tx *gorm.DB, id uint) (*DataPurchase, error) {
	var p DataPurchase
	err := tx.WithContext(ctx).Preload("Sources", func(q *gorm.DB) *gorm.DB { return q.Order("data_sources.name, data_sources.id") }).
		Preload("Deliveries", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).Preload("Deliveries.Organisation").
		First(&p, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: purchase %d", id), err)
	}
	return &p, nil
}

// GetPurchase loads a purchase that u may see (a team: one it gets); the
// price is left out for whoever may not read it, and a team sees only its
// own delivery.
func GetPurchase(ctx context.Context, db *gorm.DB, id uint, u *User) (*DataPurchase, error) {
	p, err := loadPurchase(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if !p.MaySee(u) {
		return nil, fmt.Errorf("store: purchase %d: %w", id, ErrNotFound)
	}
	return scopePurchase(p, u), nil
}

// scopePurchase strips what u may not read: the price and contract, and
// the other teams' deliveries.
func scopePurchase(p *DataPurchase, u *User) *DataPurchase {
	if MaySeePrice(u) {
		return p
	}
	own, _ := u.OrganisationScope()
	p.Price, p.Contract = 0, ""
	p.Deliveries = slices.DeleteFunc(p.Deliveries, func(d DataDelivery) bool { return own == nil || d.OrganisationID != *own })
	return p
}

// ListPurchases returns the purchases u may see, the latest first, each
// scoped like GetPurchase; surveyID 0 lists every survey's.
func ListPurchases(ctx context.Context, db *gorm.DB, surveyID uint, u *User) ([]DataPurchase, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Sources", func(q *gorm.DB) *gorm.DB { return q.Order("data_sources.name, data_sources.id") }).
		Preload("Deliveries", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).Preload("Deliveries.Organisation")
	if surveyID != 0 {
		q = q.Where("survey_id = ?", surveyID)
	}
	if own != nil {
		q = q.Where("id IN (?)", db.Model(&DataDelivery{}).Select("purchase_id").Where("organisation_id = ?", *own))
	}
	var out []DataPurchase
	if err := q.Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: purchases: %w", err)
	}
	for i := range out {
		scopePurchase(&out[i], u)
	}
	return out, nil
}

// Deliver marks the purchase delivered to one team, at now. The clearance
// rule refuses it (a *NotClearedError naming the source) while any of the
// purchase's sources is not cleared for its use at that instant; the
// refusal is written to the audit trail too. Delivering twice is a
// conflict.
func Deliver(ctx context.Context, db *gorm.DB, purchaseID, deliveryID uint, by *User, now time.Time) (*DataDelivery, error) {
	var refusal error
	var out *DataDelivery
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := loadPurchase(ctx, tx, purchaseID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(p.Deliveries, func(d DataDelivery) bool { return d.ID == deliveryID })
		if i < 0 {
			return fmt.Errorf("store: delivery %d of purchase %d: %w", deliveryID, purchaseID, ErrNotFound)
		}
		d := &p.Deliveries[i]
		if d.Delivered() {
			return fmt.Errorf("store: delivery %d already done: %w", d.ID, ErrConflict)
		}
		if err := CheckClearance(p.Sources, p.Use, now); err != nil {
			refusal = err
			return RecordAudit(ctx, tx, ActorOf(by), ActionDeliveryRefused, "data_purchase", fmt.Sprint(p.ID),
				fmt.Sprintf("delivery to organisation %d refused: %v", d.OrganisationID, err), now)
		}
		at, byID := now.UTC(), by.ID
		res := tx.Model(&DataDelivery{}).Where("id = ? AND delivered_at IS NULL", d.ID).
			Updates(map[string]any{"delivered_at": at, "delivered_by_id": byID})
		if res.Error != nil {
			return fmt.Errorf("store: deliver %d: %w", d.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: delivery %d already done: %w", d.ID, ErrConflict)
		}
		d.DeliveredAt, d.DeliveredByID = &at, &byID
		out = d
		return RecordAudit(ctx, tx, ActorOf(by), ActionDeliveryDone, "data_purchase", fmt.Sprint(p.ID),
			fmt.Sprintf("%s delivered to organisation %d for %s", p.Dataset, d.OrganisationID, p.Use), now)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return out, nil
}

// TeamSources returns the sources of the purchases that go to the team,
// by name: the clearance status a team may read.
func TeamSources(ctx context.Context, db *gorm.DB, orgID uint) ([]DataSource, error) {
	var out []DataSource
	err := db.WithContext(ctx).Where("id IN (?)",
		db.Table("data_purchase_sources").Select("data_source_id").Where("data_purchase_id IN (?)",
			db.Model(&DataDelivery{}).Select("purchase_id").Where("organisation_id = ?", orgID))).
		Order("name, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: sources of organisation %d: %w", orgID, err)
	}
	return out, nil
}
