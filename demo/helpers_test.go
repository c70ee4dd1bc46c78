package demo_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// t0 is the fixed instant the demo tests start from: 2026-11-27 14:00 KST.
var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

// gpuNow is when the demo GPU tests run.
var gpuNow = t0

func newClock() *testdb.Clock { return testdb.NewClock(t0) }

func count(t *testing.T, db *gorm.DB, model any) int64 {
	t.Helper()
	var n int64
	if err := db.WithContext(t.Context()).Model(model).Count(&n).Error; err != nil {
		t.Fatalf("count %T: %v", model, err)
	}
	return n
}

func mustOrg(t *testing.T, db *gorm.DB, code string) *models.Organisation {
	t.Helper()
	o := &models.Organisation{Code: code, NameKO: code + " 한글", NameEN: code, Kind: models.OrgCompany}
	if err := db.WithContext(t.Context()).Create(o).Error; err != nil {
		t.Fatalf("create organisation %s: %v", code, err)
	}
	return o
}

func verify(t *testing.T, db *gorm.DB) models.AuditCheck {
	t.Helper()
	check, err := models.VerifyAuditChain(t.Context(), db)
	if err != nil {
		t.Fatalf("VerifyAuditChain: %v", err)
	}
	return check
}
