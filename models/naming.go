package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// NamingKind is which K-AI name a team may use.
type NamingKind string

// The two names the programme grants.
const (
	NamingModel   NamingKind = "model"   // "K-AI 모델"
	NamingCompany NamingKind = "company" // "K-AI 기업"
)

// Valid reports whether k is one of the two names.
func (k NamingKind) Valid() bool { return k == NamingModel || k == NamingCompany }

// Label is the name as it is used: "K-AI 모델" or "K-AI 기업".
func (k NamingKind) Label() string {
	if k == NamingModel {
		return "K-AI 모델"
	}
	return "K-AI 기업"
}

// NamingGrant is the right of a selected team to call a product or itself
// "K-AI", from a date, until a date or until revoked (on elimination). Rows
// are never deleted: the registry shows past holders with their end dates.
type NamingGrant struct {
	ID         uint         `gorm:"primaryKey"`
	Kind       NamingKind   `gorm:"size:16;not null;uniqueIndex:idx_grant_agreement_kind,priority:2"`
	HolderID   uint         `gorm:"not null;index"`
	Holder     Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	Names      string       `gorm:"type:text;not null"` // the names it covers, one per line
	ValidFrom  string       `gorm:"size:10;not null"`   // 2006-01-02 (KST)
	ValidTo    string       `gorm:"size:10"`            // inclusive; empty: until revoked
	Basis      string       `gorm:"type:text;not null"` // e.g. the decision or the effective agreement
	DecisionID *uint        `gorm:"index"`
	// AgreementID is the agreement the grant rests on; AgreementVersionID
	// the version whose completion granted it (nil for an officer's grant):
	// one grant of each kind per version, however often its effects run.
	AgreementID        *uint     `gorm:"index"`
	AgreementVersionID *uint     `gorm:"uniqueIndex:idx_grant_agreement_kind,priority:1"`
	GrantedByID        uint      `gorm:"not null"`
	GrantedAt          time.Time `gorm:"not null"`
	RevokedOn          string    `gorm:"size:10"` // the first day it no longer holds
	RevokedAt          *time.Time
	RevokedByID        *uint
	RevocationReason   string `gorm:"type:text"`
}

// NameList returns the covered names.
func (g *NamingGrant) NameList() []string {
	var out []string
	for _, n := range strings.Split(g.Names, "\n") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// End is the last day the grant holds, or the zero Date when open-ended.
func (g *NamingGrant) End() Date {
	var end Date
	if g.ValidTo != "" {
		end, _ = ParseDate(g.ValidTo)
	}
	if g.RevokedOn != "" {
		r, _ := ParseDate(g.RevokedOn)
		last := r.AddDays(-1)
		if end.IsZero() || last.Before(end) {
			end = last
		}
	}
	return end
}

// HoldsOn reports whether the grant holds on day d.
func (g *NamingGrant) HoldsOn(d Date) bool {
	from, err := ParseDate(g.ValidFrom)
	if err != nil || d.Before(from) {
		return false
	}
	end := g.End()
	return end.IsZero() || !d.After(end)
}

// Covers reports whether the grant names n (compared without case, spaces
// or punctuation, so "Solar Pro", "solar-pro" and "SOLARPRO" agree).
func (g *NamingGrant) Covers(n string) bool {
	key := nameKey(n)
	if key == "" {
		return false
	}
	for _, c := range g.NameList() {
		if nameKey(c) == key {
			return true
		}
	}
	return false
}

func nameKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// GrantInput is what an officer enters to grant a name.
type GrantInput struct {
	Kind       NamingKind
	HolderID   uint
	Names      string
	ValidFrom  string
	ValidTo    string
	Basis      string
	DecisionID *uint
}

// Validate checks the input.
func (in GrantInput) Validate() FieldErrors {
	errs := FieldErrors{}
	if !in.Kind.Valid() {
		errs.Add("kind", "naming.error.kind")
	}
	if in.HolderID == 0 {
		errs.Add("holder_id", "form.required")
	}
	g := NamingGrant{Names: in.Names}
	if len(g.NameList()) == 0 {
		errs.Add("names", "form.required")
	}
	errs.CheckText("names", in.Names, MaxGrantNames, MultiLine)
	for _, n := range g.NameList() {
		errs.CheckText("names", n, MaxGrantName, SingleLine)
	}
	from, err := ParseDate(strings.TrimSpace(in.ValidFrom))
	if err != nil {
		errs.Add("valid_from", "naming.error.date")
	}
	if v := strings.TrimSpace(in.ValidTo); v != "" {
		to, err := ParseDate(v)
		if err != nil {
			errs.Add("valid_to", "naming.error.date")
		} else if !errs.Has("valid_from") && to.Before(from) {
			errs.Add("valid_to", "naming.error.to_before_from")
		}
	}
	if strings.TrimSpace(in.Basis) == "" {
		errs.Add("basis", "form.required")
	}
	errs.CheckText("basis", in.Basis, MaxGrantBasis, MultiLine)
	return errs
}

// CheckGrant checks a grant as GrantName would record it, recording
// nothing: the input (Validate), and the decision it names, if any, must
// exist.
func CheckGrant(ctx context.Context, db *gorm.DB, in GrantInput) (FieldErrors, error) {
	errs := in.Validate()
	if in.DecisionID != nil {
		var n int64
		if err := db.WithContext(ctx).Model(&Decision{}).Where("id = ?", *in.DecisionID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("store: grant name: decision %d: %w", *in.DecisionID, err)
		}
		if n == 0 {
			errs.Add("decision_id", "naming.error.decision")
		}
	}
	return errs, nil
}

// ErrNotSelected refuses a grant to a team without an agreement in force
// for the grant's dates (it matches ErrNoAgreement).
var ErrNotSelected = ErrNoAgreement

// GrantName records a naming right by hand for a team whose agreement in
// this programme holds for the grant's dates (CheckStanding); without a
// last day, the grant ends with the agreement. Agreements grant their
// names themselves when they are completed: this is for a correction.
func GrantName(ctx context.Context, db *gorm.DB, in GrantInput, by *User, now time.Time) (*NamingGrant, error) {
	if by == nil || !by.Role.IsMinistry() {
		return nil, fmt.Errorf("store: grant name: %w", ErrForbidden)
	}
	var g *NamingGrant
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if errs, err := CheckGrant(ctx, tx, in); err != nil {
			return err
		} else if errs.Any() {
			return fmt.Errorf("store: grant name: %w", ErrInvalid)
		}
		from, _ := ParseDate(strings.TrimSpace(in.ValidFrom))
		to := ""
		last := from
		if v := strings.TrimSpace(in.ValidTo); v != "" {
			d, _ := ParseDate(v)
			to, last = d.String(), d
		}
		agr, err := CheckStanding(ctx, tx, in.HolderID, from, last)
		if errors.Is(err, ErrNoAgreement) {
			return fmt.Errorf("store: grant name to organisation %d: %w", in.HolderID, ErrNotSelected)
		} else if err != nil {
			return err
		}
		_, end, _ := agr.Period()
		if to == "" {
			to = end.String()
		} else if last.After(end) {
			return fmt.Errorf("store: grant name to organisation %d past its agreement: %w", in.HolderID, ErrNotSelected)
		}
		names := strings.Join((&NamingGrant{Names: in.Names}).NameList(), "\n")
		g = &NamingGrant{Kind: in.Kind, HolderID: in.HolderID, Names: names, ValidFrom: from.String(), ValidTo: to,
			Basis: strings.TrimSpace(in.Basis), DecisionID: in.DecisionID, AgreementID: &agr.ID, GrantedByID: by.ID, GrantedAt: now.UTC()}
		if err := tx.Create(g).Error; err != nil {
			return fmt.Errorf("store: grant name: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), "naming.grant", "naming_grant", fmt.Sprint(g.ID),
			fmt.Sprintf("%s to organisation %d for %q from %s", g.Kind.Label(), g.HolderID, strings.ReplaceAll(names, "\n", ", "), g.ValidFrom), now)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// RevokeName ends a grant from a date (the first day it no longer holds),
// ValidateRevocationReason checks the reason an officer gives for ending a
// grant early: the public registry shows it.
func ValidateRevocationReason(reason string) FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(reason) == "" {
		errs.Add("reason", "form.required")
	}
	errs.CheckText("reason", strings.TrimSpace(reason), MaxRevocationReason, MultiLine)
	return errs
}

// with the reason, keeping the row.
func RevokeName(ctx context.Context, db *gorm.DB, id uint, effective, reason string, by *User, now time.Time) error {
	if by == nil || !by.Role.IsMinistry() {
		return fmt.Errorf("store: revoke name: %w", ErrForbidden)
	}
	d, err := ParseDate(strings.TrimSpace(effective))
	if err != nil || ValidateRevocationReason(reason).Any() {
		return fmt.Errorf("store: revoke name: a date and a reason are required: %w", ErrInvalid)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var g NamingGrant
		if err := tx.First(&g, id).Error; err != nil {
			return notFound(fmt.Sprintf("store: naming grant %d", id), err)
		}
		if g.RevokedAt != nil {
			return fmt.Errorf("store: revoke name %d: already revoked: %w", id, ErrInvalidTransition)
		}
		if from, _ := ParseDate(g.ValidFrom); d.Before(from) {
			return fmt.Errorf("store: revoke name %d: before it started: %w", id, ErrInvalid)
		}
		at := now.UTC()
		if err := tx.Model(&g).Updates(map[string]any{"revoked_on": d.String(), "revoked_at": at,
			"revoked_by_id": by.ID, "revocation_reason": strings.TrimSpace(reason)}).Error; err != nil {
			return fmt.Errorf("store: revoke name: %w", err)
		}
		if err := RecordAudit(ctx, tx, ActorOf(by), "naming.revoke", "naming_grant", fmt.Sprint(g.ID),
			fmt.Sprintf("no longer holds from %s: %s", d, strings.TrimSpace(reason)), now); err != nil {
			return err
		}
		if g.Kind != NamingCompany {
			return nil
		}
		// A team that may no longer call itself a K-AI company may not
		// call its models K-AI either: its model grants end with it.
		var models []NamingGrant
		if err := tx.Where("holder_id = ? AND kind = ? AND revoked_at IS NULL", g.HolderID, NamingModel).Order("id").Find(&models).Error; err != nil {
			return err
		}
		for i := range models {
			if err := endGrant(ctx, tx, &models[i], d, strings.TrimSpace(reason), false, by, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListGrants returns every grant with its holder, newest first.
func ListGrants(ctx context.Context, db *gorm.DB) ([]NamingGrant, error) {
	var gs []NamingGrant
	if err := db.WithContext(ctx).Preload("Holder").Order("valid_from DESC, id DESC").Find(&gs).Error; err != nil {
		return nil, fmt.Errorf("store: list grants: %w", err)
	}
	return gs, nil
}

// Verification answers "may this name be used as K-AI on this day?".
type Verification struct {
	Name  string
	Date  Date
	Valid bool
	// Grant is the grant that allows it; when Valid is false, the first
	// covering grant in the registry's order (newest first): a later grant not
	// yet in force, or an ended or revoked one.
	Grant *NamingGrant
}

// VerifyName looks the name up in every grant. An unknown name is not an
// error: it is simply not valid.
func VerifyName(ctx context.Context, db *gorm.DB, name string, on Date) (Verification, error) {
	v := Verification{Name: strings.TrimSpace(name), Date: on}
	grants, err := ListGrants(ctx, db)
	if err != nil {
		return v, err
	}
	for i := range grants {
		g := &grants[i]
		if !g.Covers(name) {
			continue
		}
		if g.HoldsOn(on) {
			v.Valid, v.Grant = true, g
			return v, nil
		}
		if v.Grant == nil {
			v.Grant = g
		}
	}
	return v, nil
}
