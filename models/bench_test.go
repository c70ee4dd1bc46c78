package models_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// BenchmarkBaselineInsert writes a plain row of the audit row's size in
// its own transaction: the cost any change pays on SQLite.
func BenchmarkBaselineInsert(b *testing.B) {
	db := testdb.Open(b, testdb.SQLite, time.Now)
	if err := db.Exec("CREATE TABLE plain (id INTEGER PRIMARY KEY, at TEXT, action TEXT, summary TEXT, hash TEXT)").Error; err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		err := db.Transaction(func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO plain (at, action, summary, hash) VALUES (?, ?, ?, ?)",
				time.Now().UTC().Format(time.RFC3339Nano), "bench.event", "a change worth recording", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").Error
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditAppend appends a chained audit row (read the last hash,
// hash, insert) in its own transaction.
func BenchmarkAuditAppend(b *testing.B) {
	db := testdb.Open(b, testdb.SQLite, time.Now)
	ctx := context.Background()
	for b.Loop() {
		err := db.Transaction(func(tx *gorm.DB) error {
			return models.RecordAudit(ctx, tx, models.ActorOf(nil), "bench.event", "thing", "1", "a change worth recording", time.Now())
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditVerify10k walks a chain of 10,000 rows.
func BenchmarkAuditVerify10k(b *testing.B) {
	db := testdb.Open(b, testdb.SQLite, time.Now)
	ctx := context.Background()
	err := db.Transaction(func(tx *gorm.DB) error {
		for i := 0; i < 10000; i++ {
			if err := models.RecordAudit(ctx, tx, models.ActorOf(nil), "bench.event", "thing", "1", "row", time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		check, err := models.VerifyAuditChain(ctx, db)
		if err != nil || !check.OK() || check.Rows != 10000 {
			b.Fatalf("verify: %+v %v", check, err)
		}
	}
}
