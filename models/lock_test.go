package models_test

import (
	"testing"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// Advisory locks belong to the schema in use: while an append holds the
// audit lock, another pool on the same schema cannot take it, and a pool
// on another schema of the same database can.
func TestAdvisoryLocksArePerSchema(t *testing.T) {
	t.Parallel()
	testdb.PostgresURL(t)
	clock := newClock()
	db := testdb.Open(t, testdb.Postgres, clock.Now)
	same := testdb.OpenAgain(t, db, clock.Now)
	other := testdb.Open(t, testdb.Postgres, clock.Now)

	tx := db.Begin()
	defer tx.Rollback()
	if err := models.RecordAudit(t.Context(), tx, models.ActorOf(nil), "test.lock", "thing", "1", "held", clock.Now()); err != nil {
		t.Fatal(err)
	}
	free := func(db *gorm.DB) bool {
		t.Helper()
		var ok bool
		err := db.Transaction(func(tx *gorm.DB) error {
			return tx.Raw("SELECT pg_try_advisory_xact_lock"+models.SchemaLockKey, models.AuditLockKey).Scan(&ok).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if free(same) {
		t.Error("another pool on the same schema took the audit lock while an append held it")
	}
	if !free(other) {
		t.Error("a pool on another schema could not take its audit lock while an append held the first schema's")
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if !free(same) {
		t.Error("the audit lock is still held after the append committed")
	}
}
