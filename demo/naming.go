package demo

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"kaiportal/models"
)

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
