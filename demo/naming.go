package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// demoNamingAt is when the demo officer grants the K-AI names by hand, the
// afternoon of the selection (2025-08-04 15:00 KST), before any agreement.
var demoNamingAt = time.Date(2025, 8, 4, 15, 0, 0, 0, models.KST)

// demoModelNames gives each selected team of the demo story one product
// name for its "K-AI 모델" grant. They are illustrative demo data, chosen
// to sound like the teams' model families, not the names the ministry
// actually registered.
var demoModelNames = map[string]string{
	"naver-cloud":    "HyperCLOVA X Omni",
	"upstage":        "Solar Pro",
	"sk-telecom":     "A.X",
	"nc-ai":          "VARCO",
	"lg-ai-research": "EXAONE",
}

// SeedNaming grants the demo naming rights after SeedApplications:
// "K-AI 기업" to each of the five teams selected by the demo decision of
// 2025-08-04 (covering its Korean and English names) and "K-AI 모델" for one
// illustrative model name each, valid from the decision day until revoked,
// with the decision as the basis. It runs in one transaction and is
// idempotent: once the decision has grants it changes nothing.
func SeedNaming(ctx context.Context, db *gorm.DB, now time.Time) error {
	if now.Before(demoNamingAt) {
		return fmt.Errorf("store: seed demo naming: the clock (%s) is before the grants", now.In(models.KST).Format(time.RFC3339))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSeeding(tx); err != nil {
			return err
		}
		full, err := firstSelection(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo naming: the demo decision (run SeedApplications first): %w", err)
		}
		grants, err := models.ListGrants(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo naming: %w", err)
		}
		for _, g := range grants {
			if g.DecisionID != nil && *g.DecisionID == full.ID {
				return nil
			}
		}
		officer, err := demoOfficer(ctx, tx)
		if err != nil {
			return fmt.Errorf("store: seed demo naming: the demo officer: %w", err)
		}
		day := models.DateOf(full.PublishedAt).String()
		basis := day + " 정예팀 선정 결정 (협약 체결 전 수동 부여)"
		granted := 0
		for _, e := range full.Entries {
			if !e.Selected {
				continue
			}
			org, err := models.GetOrganisation(ctx, tx, e.OrganisationID)
			if err != nil {
				return err
			}
			model, ok := demoModelNames[org.Code]
			if !ok {
				return fmt.Errorf("store: seed demo naming: no demo model name for %s: %w", org.Code, models.ErrInvalid)
			}
			names := org.NameKO
			if org.NameEN != org.NameKO {
				names += "\n" + org.NameEN
			}
			for _, in := range []models.GrantInput{
				{Kind: models.NamingCompany, Names: names},
				{Kind: models.NamingModel, Names: model},
			} {
				in.HolderID, in.ValidFrom, in.Basis, in.DecisionID = org.ID, day, basis, &full.ID
				if _, err := models.GrantName(ctx, tx, in, officer, demoNamingAt); err != nil {
					return fmt.Errorf("store: seed demo naming for %s: %w", org.Code, err)
				}
			}
			granted++
		}
		if granted == 0 {
			return errors.New("store: seed demo naming: the demo decision selected no team")
		}
		return nil
	})
}

// firstSelection returns the first selection published in the demo
// programme, the 2025 call's, with its entries.
func firstSelection(ctx context.Context, db *gorm.DB) (*models.Decision, error) {
	prog, err := models.GetProgrammeByCode(ctx, db, ProgrammeCode)
	if err != nil {
		return nil, err
	}
	ds, err := models.ListDecisions(ctx, db)
	if err != nil {
		return nil, err
	}
	var first *models.Decision
	for i, d := range ds {
		if d.Kind == models.DecisionSelection && d.Call.ProgrammeID == prog.ID && (first == nil || d.ID < first.ID) {
			first = &ds[i]
		}
	}
	if first == nil {
		return nil, fmt.Errorf("store: no selection in programme %s: %w", ProgrammeCode, models.ErrNotFound)
	}
	return first, nil
}
