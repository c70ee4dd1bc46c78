package models_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// holdRowThenStep checks the lock order of one step on PostgreSQL: another
// transaction holds a row (hold selects it FOR NO KEY UPDATE, as an UPDATE
// of the row locks it), the step is started and seen waiting for it
// (pg_blocking_pids), and each of the named advisory locks must then still
// be free: a step that waits for a row while holding one of them can
// deadlock with a writer that holds the row and waits for the lock. Once
// the row is free the step must finish; its error is returned.
func holdRowThenStep(t *testing.T, db *gorm.DB, hold string, args []any, locks map[string]int, step func() error) error {
	t.Helper()
	other := db.WithContext(t.Context()).Begin()
	defer other.Rollback()
	var pid int
	if err := other.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
		t.Fatal(err)
	}
	var held []uint
	if err := other.Raw(hold+" FOR NO KEY UPDATE", args...).Scan(&held).Error; err != nil || len(held) == 0 {
		t.Fatalf("hold the row (%s): %v %v", hold, held, err)
	}
	done := make(chan error, 1)
	go func() { done <- step() }()
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("the step finished (%v) while another transaction held the row", err)
		default:
		}
		var n int64
		if err := db.Raw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		waiting = n > 0
		if !waiting {
			time.Sleep(5 * time.Millisecond) // polls a state; no timing is asserted
		}
	}
	for name, key := range locks {
		var free bool
		if err := other.Raw("SELECT pg_try_advisory_xact_lock"+models.SchemaLockKey, key).Scan(&free).Error; err != nil {
			t.Fatal(err)
		}
		if !free {
			t.Errorf("the step holds the %s lock while it waits for the row: it can deadlock", name)
		}
	}
	if err := other.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	return <-done
}

// auditLock names the audit lock for holdRowThenStep.
var auditLock = map[string]int{"audit": models.AuditLockKey}
