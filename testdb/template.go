package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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
//
// Making a schema is some hundred statements of DDL, the most costly part
// of a short test. In a package whose TestMain runs the tests through Main,
// a test's schema is therefore kept when the test ends, emptied, for the
// next test: if its definition is still what the migrations made (its
// fingerprint, below), every table is emptied, the sequences restart, and
// the migrations' rows are inserted again, all in one transaction; a schema
// that a test changed is dropped. Main drops the kept schemas at the end.

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
	schema      string // the scratch schema they ran in, should a statement name it
	stmts       []pgStatement
	fingerprint string // of the schema they made

	mu     sync.Mutex
	free   []string          // emptied schemas, ready for another test
	stamps map[string]string // per schema, its catalogStampQuery digest when it last matched the template
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
	if err := db.Raw(fingerprintQuery).Scan(&tmpl.fingerprint).Error; err != nil || tmpl.fingerprint == "" {
		return nil, fmt.Errorf("fingerprint the migrated schema: %q, %v", tmpl.fingerprint, err)
	}
	return tmpl, nil
}

// fingerprintQuery digests the definition of the schema first in the search
// path: its tables, views and sequences, columns with their types, defaults
// and constraints, indexes, triggers (and whether they are enabled) and
// functions, with the schema's own name taken out. A test that altered any
// of these leaves a schema that is not used again.
const fingerprintQuery = `SELECT md5(string_agg(replace(d, current_schema() || '.', ''), E'\n' ORDER BY d)) FROM (
	SELECT 'rel ' || c.relname || ' ' || c.relkind::text || c.relpersistence::text || c.relrowsecurity::text AS d
		FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
	UNION ALL SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' ||
			a.attnotnull::text || ' ' || a.attisdropped::text || ' ' || COALESCE(pg_get_expr(ad.adbin, ad.adrelid), '')
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0
	UNION ALL SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
	UNION ALL SELECT 'idx ' || pg_get_indexdef(indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = current_schema()::regnamespace
	UNION ALL SELECT 'tg ' || tgname || ' ' || tgenabled::text || ' ' || pg_get_triggerdef(t.oid)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
	UNION ALL SELECT 'fn ' || proname || ' ' || md5(prosrc)
		FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
	UNION ALL SELECT 'seq ' || sequencename || ' ' || start_value::text || ' ' || increment_by::text
		FROM pg_sequences WHERE schemaname = current_schema()
) defs`

// catalogStampQuery digests the identity and row version of every catalog
// row that defines the schema first in the search path (relations, columns,
// defaults, constraints, indexes, triggers, functions, sequences). Any DDL
// in the schema writes one of these rows, so a schema whose stamp has not
// changed since it matched the template still matches it. The stamp reads
// the catalogs by their indexes, relation by relation (LATERAL), and
// deparses nothing: 13–21 ms against fingerprintQuery's 33–45 ms on the
// test database with six schemas (BENCHMARKS.md).
// (Statistics that VACUUM and ANALYZE keep in pg_class are updated in
// place, without a new row version.) A changed stamp proves nothing: the
// fingerprint then decides.
const catalogStampQuery = `WITH ns AS MATERIALIZED (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
	rels AS MATERIALIZED (SELECT oid, xmin FROM pg_class WHERE relnamespace = (SELECT oid FROM ns))
SELECT md5(string_agg(r, ',' ORDER BY r)) FROM (
	SELECT x.r FROM rels, LATERAL (
		SELECT 'c' || rels.oid || ':' || rels.xmin AS r
		UNION ALL SELECT 'a' || attrelid || '.' || attnum || ':' || xmin FROM pg_attribute WHERE attrelid = rels.oid
		UNION ALL SELECT 'd' || oid || ':' || xmin FROM pg_attrdef WHERE adrelid = rels.oid
		UNION ALL SELECT 'k' || oid || ':' || xmin FROM pg_constraint WHERE conrelid = rels.oid
		UNION ALL SELECT 'i' || indexrelid || ':' || xmin FROM pg_index WHERE indexrelid = rels.oid
		UNION ALL SELECT 't' || oid || ':' || xmin FROM pg_trigger WHERE tgrelid = rels.oid
		UNION ALL SELECT 's' || seqrelid || ':' || xmin FROM pg_sequence WHERE seqrelid = rels.oid
	) x
	UNION ALL SELECT 'k' || oid || ':' || xmin FROM pg_constraint WHERE conrelid = 0 AND connamespace = (SELECT oid FROM ns)
	UNION ALL SELECT 'p' || oid || ':' || xmin FROM pg_proc WHERE pronamespace = (SELECT oid FROM ns)
) rows`

// matchesTemplate reports whether the schema in tx's search path is defined
// as the template's: by its catalog stamp if it is the one recorded when
// the schema last matched, else by its fingerprint, recording the new stamp
// when that matches.
func (tmpl *pgTemplate) matchesTemplate(tx *gorm.DB, schema string) (bool, error) {
	var stamp string
	if err := tx.Raw(catalogStampQuery).Scan(&stamp).Error; err != nil {
		return false, err
	}
	tmpl.mu.Lock()
	known := tmpl.stamps[schema]
	tmpl.mu.Unlock()
	if stamp != "" && stamp == known {
		return true, nil
	}
	var fp string
	if err := tx.Raw(fingerprintQuery).Scan(&fp).Error; err != nil {
		return false, err
	}
	if fp != tmpl.fingerprint {
		return false, nil
	}
	tmpl.setStamp(schema, stamp)
	return true, nil
}

func (tmpl *pgTemplate) setStamp(schema, stamp string) {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if tmpl.stamps == nil {
		tmpl.stamps = map[string]string{}
	}
	tmpl.stamps[schema] = stamp
}

// pooling is set while Main runs the tests: schemas are then kept for reuse.
var pooling atomic.Bool

// Main runs the package's tests and then drops the PostgreSQL schemas kept
// for reuse; without it each test's schema is dropped when the test ends.
// Use it as
//
//	func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
func Main(m *testing.M) int {
	pooling.Store(true)
	code := m.Run()
	pooling.Store(false)
	pgTmpl.mu.Lock()
	defer pgTmpl.mu.Unlock()
	for dsn, tmpl := range pgTmpl.byDSN {
		admin, err := adminPool(dsn)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
			continue
		}
		tmpl.mu.Lock()
		for _, schema := range tmpl.free {
			if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
				fmt.Fprintf(os.Stderr, "testdb: drop schema %s: %v\n", schema, err)
				code = max(code, 1)
			}
		}
		tmpl.free = nil
		tmpl.mu.Unlock()
	}
	return code
}

// reuse takes an emptied schema, if one is free.
func (tmpl *pgTemplate) reuse() (string, bool) {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if n := len(tmpl.free); n > 0 {
		schema := tmpl.free[n-1]
		tmpl.free = tmpl.free[:n-1]
		return schema, true
	}
	return "", false
}

// recycle empties a schema that its test has finished with and keeps it for
// another test. It reports false, leaving the schema to be dropped, when
// schemas are not kept, when the test changed the schema's definition, or
// when emptying it failed.
func (tmpl *pgTemplate) recycle(admin *gorm.DB, schema string) bool {
	if !pooling.Load() {
		return false
	}
	err := admin.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL search_path TO " + schema).Error; err != nil {
			return err
		}
		same, err := tmpl.matchesTemplate(tx, schema)
		if err != nil {
			return err
		}
		if !same {
			return fmt.Errorf("schema %s changed", schema)
		}
		// Triggers, foreign keys included, do not fire for a replica: the
		// append-only tables are emptied too, in any order.
		var deletes string
		if err := tx.Raw(`SELECT string_agg(format('DELETE FROM %I.%I', schemaname, tablename), '; ')
			FROM pg_tables WHERE schemaname = ?`, schema).Scan(&deletes).Error; err != nil {
			return err
		}
		if err := tx.Exec("SET LOCAL session_replication_role = replica; " + deletes).Error; err != nil {
			return err
		}
		if err := tx.Exec(`SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)
			FROM pg_sequences WHERE schemaname = ?`, schema).Error; err != nil {
			return err
		}
		if err := tx.Exec("SET LOCAL session_replication_role = DEFAULT").Error; err != nil {
			return err
		}
		sqlTx, ok := tx.Statement.ConnPool.(interface {
			ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		})
		if !ok {
			return fmt.Errorf("no transaction to replay in")
		}
		for _, s := range tmpl.stmts {
			if !isDML(s.sql) {
				continue
			}
			if _, err := sqlTx.ExecContext(context.Background(), strings.ReplaceAll(s.sql, tmpl.schema, schema), s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if err != nil {
		delete(tmpl.stamps, schema) // the schema is dropped
		return false
	}
	tmpl.free = append(tmpl.free, schema)
	return true
}

// isDML reports whether a statement writes rows rather than defining
// objects: these are what refill an emptied schema.
func isDML(q string) bool {
	verb, _, _ := strings.Cut(strings.TrimSpace(q), " ")
	switch strings.ToUpper(verb) {
	case "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
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
	// Made from the template: its stamp stands for the template's definition.
	var stamp string
	if err := tx.QueryRowContext(ctx, catalogStampQuery).Scan(&stamp); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	tmpl.setStamp(schema, stamp)
	return nil
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
