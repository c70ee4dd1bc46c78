package models_test

import (
	"context"
	"os"
	"strconv"
	"strings"
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

// BenchmarkAuditVerify1M walks a chain of 1,000,000 rows on each database
// (PostgreSQL when TEST_DATABASE_URL is set). Loading the rows takes longer
// than the walk, so it runs only with AUDIT_BENCH_1M=1:
//
//	AUDIT_BENCH_1M=1 go test -run '^$' -bench AuditVerify1M -benchtime 3x ./models
func BenchmarkAuditVerify1M(b *testing.B) {
	if os.Getenv("AUDIT_BENCH_1M") == "" {
		b.Skip("set AUDIT_BENCH_1M=1 to load and walk 1,000,000 audit rows")
	}
	const rows = 1_000_000
	for _, kind := range []testdb.Kind{testdb.SQLite, testdb.Postgres} {
		b.Run(string(kind), func(b *testing.B) {
			if kind == testdb.Postgres && os.Getenv("TEST_DATABASE_URL") == "" {
				b.Skip("TEST_DATABASE_URL is not set")
			}
			db := testdb.Open(b, kind, time.Now)
			bulkAudit(b, db, rows)
			ctx := context.Background()
			for b.Loop() {
				check, err := models.VerifyAuditChain(ctx, db)
				if err != nil || !check.OK() || check.Rows != rows {
					b.Fatalf("verify: %+v %v", check, err)
				}
			}
		})
	}
}

// bulkAudit appends n chained rows in multi-row inserts, computing the
// chain as RecordAudit does.
func bulkAudit(b *testing.B, db *gorm.DB, n int) {
	b.Helper()
	const batch = 1000
	prev := genesis
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var (
		sql  strings.Builder
		args = make([]any, 0, batch*9)
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		for done := 0; done < n; done += batch {
			sql.Reset()
			sql.WriteString("INSERT INTO audit_entries (at, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash) VALUES ")
			args = args[:0]
			for i := range min(batch, n-done) {
				id := uint(done + i)
				e := models.AuditEntry{At: at.Add(time.Duration(done+i) * time.Millisecond), Actor: "김정책 (officer)",
					Action: "bench.event", ObjectType: "application", ObjectID: strconv.Itoa(done + i),
					Summary: "status draft → submitted, a change worth recording", PrevHash: prev}
				if i%2 == 1 {
					e.ActorID = &id
				}
				e.Hash = chainHash(e)
				prev = e.Hash
				if i > 0 {
					sql.WriteString(",")
				}
				sql.WriteString("(?,?,?,?,?,?,?,?,?)")
				args = append(args, e.At, e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Summary, e.PrevHash, e.Hash)
			}
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("load %d audit rows: %v", n, err)
	}
}
