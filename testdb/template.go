package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// The migrations run once per test process. Every test's database is a copy
// of what they made, which is what running them again would make: they
// start from an empty database each time and record no clock or random
// value, so the copy is the same as a fresh run, in a fraction of the time
// (on PostgreSQL the migrations also wait for each other on an advisory
// lock, across test processes).
//
// SQLite: the migrated file, kept in memory, is written into the test's
// temporary directory.
//
// PostgreSQL: each test has a schema of its own in the one test database.
// The template is the list of statements the migrations sent (tables,
// indexes, sequences, functions, triggers and the rows they insert), taken
// once from a real run in a scratch schema, which is dropped at once. A
// test's schema is made by replaying them, in one transaction, on a pool
// whose search path names the new schema.

// templateNow is the clock the template's migrations run with. They record
// no time today; if one ever does, every copy holds this instant.
func templateNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

var sqliteTmpl struct {
	once sync.Once
	file []byte
	err  error
}

// sqliteTemplate returns the bytes of a migrated SQLite database.
func sqliteTemplate() ([]byte, error) {
	sqliteTmpl.once.Do(func() {
		sqliteTmpl.file, sqliteTmpl.err = buildSQLiteTemplate()
	})
	return sqliteTmpl.file, sqliteTmpl.err
}

func buildSQLiteTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "testdb-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := models.OpenSQLite(filepath.Join(dir, "migrated.db"), templateNow)
	if err != nil {
		return nil, err
	}
	defer models.Close(db)
	if err := models.Migrate(context.Background(), db); err != nil {
		return nil, err
	}
	// VACUUM INTO writes one self-contained file: no write-ahead log beside it.
	snapshot := filepath.Join(dir, "template.db")
	if err := db.Exec("VACUUM INTO ?", snapshot).Error; err != nil {
		return nil, fmt.Errorf("vacuum into: %w", err)
	}
	return os.ReadFile(snapshot)
}

// pgStatement is one statement the migrations sent, with its arguments.
type pgStatement struct {
	sql  string
	args []any
}

// pgTemplate is what the migrations did to an empty schema.
type pgTemplate struct {
	schema string // the scratch schema they ran in, should a statement name it
	stmts  []pgStatement
}

var pgTmpl struct {
	mu    sync.Mutex
	byDSN map[string]*pgTemplate
}

// postgresTemplate returns the migrations' statements, recording them on
// the first call for the database.
func postgresTemplate(dsn string) (*pgTemplate, error) {
	pgTmpl.mu.Lock()
	defer pgTmpl.mu.Unlock()
	if tmpl, ok := pgTmpl.byDSN[dsn]; ok {
		return tmpl, nil
	}
	tmpl, err := recordMigrations(dsn)
	if err != nil {
		return nil, err
	}
	if pgTmpl.byDSN == nil {
		pgTmpl.byDSN = map[string]*pgTemplate{}
	}
	pgTmpl.byDSN[dsn] = tmpl
	return tmpl, nil
}

// recordMigrations runs the migrations in a scratch schema, recording every
// statement that changed it, and drops the schema.
func recordMigrations(dsn string) (tmpl *pgTemplate, err error) {
	admin, err := adminPool(dsn)
	if err != nil {
		return nil, err
	}
	schema := newSchemaName()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	defer func() {
		if dropErr := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; dropErr != nil && err == nil {
			err = fmt.Errorf("drop schema %s: %w", schema, dropErr)
		}
	}()
	db, err := models.OpenPostgres(WithSearchPath(dsn, schema), templateNow)
	if err != nil {
		return nil, err
	}
	defer models.Close(db)

	tmpl = &pgTemplate{schema: schema}
	var mu sync.Mutex
	record := func(tx *gorm.DB) {
		if tx.Error != nil || tx.DryRun || tx.Statement.SQL.Len() == 0 {
			return
		}
		s := tx.Statement.SQL.String()
		if strings.Contains(s, "pg_advisory_") { // Migrate's lock, not part of the schema
			return
		}
		mu.Lock()
		tmpl.stmts = append(tmpl.stmts, pgStatement{sql: s, args: append([]any(nil), tx.Statement.Vars...)})
		mu.Unlock()
	}
	// Queries and Row/Rows only read; everything else is recorded.
	const name = "testdb:record"
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register(name, record),
		cb.Update().After("gorm:update").Register(name, record),
		cb.Delete().After("gorm:delete").Register(name, record),
		cb.Raw().After("gorm:raw").Register(name, record),
	} {
		if err != nil {
			return nil, err
		}
	}
	if err := models.Migrate(context.Background(), db); err != nil {
		return nil, err
	}
	if len(tmpl.stmts) == 0 {
		return nil, fmt.Errorf("the migrations sent no statement")
	}
	return tmpl, nil
}

// replay makes the template's schema in the (empty) schema db's search path
// names, in one transaction.
func (tmpl *pgTemplate) replay(ctx context.Context, db *gorm.DB) error {
	var schema string
	if err := db.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Runs of statements without arguments go as one multi-statement query:
	// one round trip instead of one each.
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, strings.Join(batch, ";\n"))
		batch = batch[:0]
		return err
	}
	for _, s := range tmpl.stmts {
		q := strings.ReplaceAll(s.sql, tmpl.schema, schema)
		if len(s.args) == 0 {
			batch = append(batch, q)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, s.args...); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return tx.Commit()
}

var admins struct {
	mu    sync.Mutex
	byDSN map[string]*gorm.DB
}

// adminPool is the process's pool on the test database as such, which
// creates and drops the tests' schemas. It is opened once, and it removes
// what an earlier test process left behind when it was killed.
func adminPool(dsn string) (*gorm.DB, error) {
	admins.mu.Lock()
	defer admins.mu.Unlock()
	if db, ok := admins.byDSN[dsn]; ok {
		return db, nil
	}
	db, err := models.OpenPostgres(dsn, time.Now)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(2)
	if err := dropAbandonedSchemas(db); err != nil {
		models.Close(db)
		return nil, err
	}
	if admins.byDSN == nil {
		admins.byDSN = map[string]*gorm.DB{}
	}
	admins.byDSN[dsn] = db
	return db, nil
}

// Test schemas are named test_<unix seconds>_<pid>_<n>.
var (
	schemaSeq     atomic.Int64
	schemaPattern = regexp.MustCompile(`^test_([0-9]+)_[0-9]+_[0-9]+$`)
)

func newSchemaName() string {
	return fmt.Sprintf("test_%d_%d_%d", time.Now().Unix(), os.Getpid(), schemaSeq.Add(1))
}

// abandonedAfter is how old a test schema must be for another test process
// to drop it: older than any test run (make test's limit is 45 minutes), so
// only a killed process's are.
const abandonedAfter = 6 * time.Hour

// dropAbandonedSchemas drops test schemas that a killed test process left.
func dropAbandonedSchemas(admin *gorm.DB) error {
	var names []string
	if err := admin.Raw("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'").Scan(&names).Error; err != nil {
		return fmt.Errorf("list test schemas: %w", err)
	}
	for _, n := range names {
		m := schemaPattern.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		sec, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < abandonedAfter {
			continue
		}
		// Another process may be dropping it too: not an error.
		admin.Exec("DROP SCHEMA IF EXISTS " + n + " CASCADE")
	}
	return nil
}
