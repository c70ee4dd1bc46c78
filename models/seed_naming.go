package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// demoNamingAt is when the demo officer grants the K-AI names by hand, the
// afternoon of the selection (2025-08-04 15:00 KST), before any agreement.
var demoNamingAt = time.Date(2025, 8, 4, 15, 0, 0, 0, KST)

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

// SeedDemoNaming grants the demo naming rights after SeedDemoApplications:
// "K-AI 기업" to each of the five teams selected by the demo decision of
// 2025-08-04 (covering its Korean and English names) and "K-AI 모델" for one
// illustrative model name each, valid from the decision day until revoked,
// with the decision as the basis. It runs in one transaction and is
// idempotent: once the decision has grants it changes nothing.
func SeedDemoNaming(ctx context.Context, db *gorm.DB, now time.Time) error {
	if now.Before(demoNamingAt) {
		return fmt.Errorf("store: seed demo naming: the clock (%s) is before the grants", now.In(KST).Format(time.RFC3339))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock"+schemaLockKey, seedLockKey).Error; err != nil {
				return fmt.Errorf("store: seed lock: %w", err)
			}
		}
		var d Decision
		err := tx.Joins("JOIN calls ON calls.id = decisions.call_id").
			Joins("JOIN programmes ON programmes.id = calls.programme_id").
			Where("programmes.code = ? AND decisions.kind = ?", DemoProgrammeCode, DecisionSelection).
			Order("decisions.id").First(&d).Error
		if err != nil {
			return notFound("store: seed demo naming: the demo decision (run SeedDemoApplications first)", err)
		}
		var n int64
		if err := tx.Model(&NamingGrant{}).Where("decision_id = ?", d.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("store: seed demo naming: %w", err)
		}
		if n > 0 {
			return nil
		}
		officer, err := getUserBy(ctx, tx, "issuer = ? AND subject = ?", DemoIssuer, "demo-officer")
		if err != nil {
			return fmt.Errorf("store: seed demo naming: the demo officer: %w", err)
		}
		full, err := GetDecision(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		day := DateOf(full.PublishedAt).String()
		basis := day + " 정예팀 선정 결정 (협약 체결 전 수동 부여)"
		granted := 0
		for _, e := range full.Entries {
			if !e.Selected {
				continue
			}
			org, err := GetOrganisation(ctx, tx, e.OrganisationID)
			if err != nil {
				return err
			}
			model, ok := demoModelNames[org.Code]
			if !ok {
				return fmt.Errorf("store: seed demo naming: no demo model name for %s: %w", org.Code, ErrInvalid)
			}
			names := org.NameKO
			if org.NameEN != org.NameKO {
				names += "\n" + org.NameEN
			}
			for _, in := range []GrantInput{
				{Kind: NamingCompany, Names: names},
				{Kind: NamingModel, Names: model},
			} {
				in.HolderID, in.ValidFrom, in.Basis, in.DecisionID = org.ID, day, basis, &full.ID
				if _, err := GrantName(ctx, tx, in, officer, demoNamingAt); err != nil {
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
