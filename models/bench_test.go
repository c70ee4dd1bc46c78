package models_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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
// than the walk (about half a minute a database on the 2-core machine), so
// it runs only with AUDIT_BENCH_1M=1:
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
			start := time.Now()
			bulkAudit(b, db, rows)
			b.Logf("%s: %d rows loaded in %v", kind, rows, time.Since(start).Round(time.Millisecond))
			ctx := context.Background()
			cpu := processCPU()
			for b.Loop() {
				check, err := models.VerifyAuditChain(ctx, db)
				if err != nil || !check.OK() || check.Rows != rows {
					b.Fatalf("verify: %+v %v", check, err)
				}
			}
			// The walk's own CPU time (the database server's not included):
			// on a shared machine, what the walk costs apart from waiting.
			if used := processCPU() - cpu; used > 0 {
				b.ReportMetric(used.Seconds()/float64(b.N), "cpu-s/op")
			}
		})
	}
}

// bulkAudit appends n chained rows, computing the chain as RecordAudit
// does: on SQLite in one transaction of prepared multi-row inserts, on
// PostgreSQL with COPY. The audit table's indexes are dropped for the load
// and built again after it, which is quicker than keeping them up to date
// row by row.
func bulkAudit(b *testing.B, db *gorm.DB, n int) {
	b.Helper()
	ctx := context.Background()
	indexes := []string{"Hash", "Action", "ActorID"}
	for _, idx := range indexes {
		if err := db.Migrator().DropIndex(&models.AuditEntry{}, idx); err != nil {
			b.Fatalf("drop index %s: %v", idx, err)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		b.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if db.Dialector.Name() == "postgres" {
		err = conn.Raw(func(driverConn any) error {
			i := 0
			var e models.AuditEntry
			next := chainRows(n)
			_, err := driverConn.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"audit_entries"},
				[]string{"at", "actor_id", "actor", "action", "object_type", "object_id", "summary", "prev_hash", "hash"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if i == n {
						return nil, nil
					}
					i++
					e = next()
					return []any{e.At, e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Summary, e.PrevHash, e.Hash}, nil
				}))
			return err
		})
	} else {
		err = sqliteBulkAudit(ctx, conn, n)
	}
	if err != nil {
		b.Fatalf("load %d audit rows: %v", n, err)
	}
	for _, idx := range indexes {
		if err := db.Migrator().CreateIndex(&models.AuditEntry{}, idx); err != nil {
			b.Fatalf("create index %s: %v", idx, err)
		}
	}
	// As the databases would be in use: PostgreSQL's visibility map set
	// (autovacuum's work), SQLite's log written back into the database.
	clean := "VACUUM ANALYZE audit_entries"
	if db.Dialector.Name() == "sqlite" {
		clean = "PRAGMA wal_checkpoint(TRUNCATE)"
	}
	if _, err := conn.ExecContext(ctx, clean); err != nil {
		b.Fatalf("%s: %v", clean, err)
	}
}

// sqliteBulkAudit inserts n chained rows in one transaction, a prepared
// statement of 100 rows at a time, with a page cache large enough for the
// load (and set back after it, so the walk reads as it would in use).
func sqliteBulkAudit(ctx context.Context, conn *sql.Conn, n int) error {
	const per = 100
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, "PRAGMA cache_size = -2000")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insert := func(rows int) string {
		var q strings.Builder
		q.WriteString("INSERT INTO audit_entries (at, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash) VALUES ")
		for i := range rows {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?)")
		}
		return q.String()
	}
	stmt, err := tx.PrepareContext(ctx, insert(per))
	if err != nil {
		return err
	}
	defer stmt.Close()
	next := chainRows(n)
	args := make([]any, 0, per*9)
	for done := 0; done < n; done += per {
		rows := min(per, n-done)
		args = args[:0]
		for range rows {
			e := next()
			args = append(args, e.At, e.ActorID, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Summary, e.PrevHash, e.Hash)
		}
		if rows == per {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(rows), args...)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// chainRows returns a generator of n chained audit rows, a millisecond
// apart, half of them with an actor ID.
func chainRows(n int) func() models.AuditEntry {
	prev := genesis
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	return func() models.AuditEntry {
		e := models.AuditEntry{At: at.Add(time.Duration(i) * time.Millisecond), Actor: "김정책 (officer)",
			Action: "bench.event", ObjectType: "application", ObjectID: strconv.Itoa(i),
			Summary: "status draft → submitted, a change worth recording", PrevHash: prev}
		if i%2 == 1 {
			id := uint(i)
			e.ActorID = &id
		}
		e.Hash = chainHash(e)
		prev = e.Hash
		i++
		return e
	}
}
