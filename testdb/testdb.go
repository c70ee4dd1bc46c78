// Package testdb opens real databases for tests: a fresh SQLite file always,
// and a fresh PostgreSQL schema when TEST_DATABASE_URL is set. Store and
// handler tests run once per database through Each.
package testdb

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// Clock is a settable clock for tests.
type Clock struct{ t atomic.Int64 }

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.t.Load()).UTC() }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.t.Store(t.UnixNano()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// Kind names a database engine.
type Kind string

// The engines tests run on.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Each runs fn as a subtest once per available database, each with a fresh,
// migrated, empty database. PostgreSQL is skipped, saying why, when
// TEST_DATABASE_URL is not set.
func Each(t *testing.T, now func() time.Time, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	for _, kind := range []Kind{SQLite, Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			db := Open(t, kind, now)
			fn(t, db)
		})
	}
}

// Open returns a fresh migrated database of the given kind, closed and
// removed when the test ends. The migrations run once per test process, into
// a template that each test gets a copy of: for SQLite the migrated file,
// for PostgreSQL the statements the migrations ran, replayed in a new schema
// in one transaction.
func Open(t testing.TB, kind Kind, now func() time.Time) *gorm.DB {
	t.Helper()
	switch kind {
	case SQLite:
		tmpl, err := sqliteTemplate()
		if err != nil {
			t.Fatalf("migrate sqlite template: %v", err)
		}
		path := filepath.Join(t.TempDir(), "test.db")
		if err := os.WriteFile(path, tmpl, 0o600); err != nil {
			t.Fatal(err)
		}
		return openSQLite(t, path, now)
	case Postgres:
		dsn := PostgresURL(t)
		tmpl, err := postgresTemplate(dsn)
		if err != nil {
			t.Fatalf("migrate postgres template: %v", err)
		}
		if schema, ok := tmpl.reuse(); ok {
			return openSchema(t, dsn, schema, tmpl, now)
		}
		db := openSchema(t, dsn, "", tmpl, now)
		if err := tmpl.replay(t.Context(), db); err != nil {
			t.Fatalf("create schema from the template: %v", err)
		}
		return db
	}
	t.Fatalf("unknown database kind %q", kind)
	return nil
}

// OpenEmpty is Open without migrations.
func OpenEmpty(t testing.TB, kind Kind, now func() time.Time) *gorm.DB {
	t.Helper()
	switch kind {
	case SQLite:
		return openSQLite(t, filepath.Join(t.TempDir(), "test.db"), now)
	case Postgres:
		return openSchema(t, PostgresURL(t), "", nil, now)
	}
	t.Fatalf("unknown database kind %q", kind)
	return nil
}

func openSQLite(t testing.TB, path string, now func() time.Time) *gorm.DB {
	t.Helper()
	db, err := models.OpenSQLite(path, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })
	return db
}

// openSchema returns a pool whose search path names schema, or a new empty
// schema of the test's own when schema is "". When the test ends the schema
// is emptied for another test of the process (tmpl.recycle), or dropped.
func openSchema(t testing.TB, dsn, schema string, tmpl *pgTemplate, now func() time.Time) *gorm.DB {
	t.Helper()
	admin, err := adminPool(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if schema == "" {
		schema = newSchemaName()
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			t.Fatalf("create schema: %v", err)
		}
	}
	drop := func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	}
	db, err := models.OpenPostgres(WithSearchPath(dsn, schema), now)
	if err != nil {
		drop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		models.Close(db)
		if tmpl == nil || !tmpl.recycle(admin, schema) {
			drop()
		}
	})
	return db
}

// OpenAgain opens a second connection pool on the database that db uses (the
// same SQLite file or the same PostgreSQL schema), as a second portal
// instance would. It is closed when the test ends; the database itself is
// left to whoever opened it.
func OpenAgain(t testing.TB, db *gorm.DB, now func() time.Time) *gorm.DB {
	t.Helper()
	var (
		again *gorm.DB
		err   error
	)
	switch db.Dialector.Name() {
	case "sqlite":
		var file string
		if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
			t.Fatalf("sqlite file: %v", err)
		}
		again, err = models.OpenSQLite(file, now)
	case "postgres":
		var schema string
		if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			t.Fatalf("postgres schema: %v", err)
		}
		again, err = models.OpenPostgres(WithSearchPath(PostgresURL(t), schema), now)
	default:
		t.Fatalf("unknown database kind %q", db.Dialector.Name())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(again) })
	return again
}

// PostgresURL returns TEST_DATABASE_URL or skips the test, saying why.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Skip("PostgreSQL test skipped: TEST_DATABASE_URL is not set (CI sets it; see README)")
	}
	return dsn
}

// WithSearchPath points a PostgreSQL URL at one schema.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return dsn
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// EachKind runs fn as a subtest once per database engine, for tests that
// open their own database (through Open) or a whole application on it.
// PostgreSQL is skipped, saying why, when TEST_DATABASE_URL is not set.
func EachKind(t *testing.T, fn func(t *testing.T, kind Kind)) {
	t.Helper()
	for _, kind := range []Kind{SQLite, Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			if kind == Postgres {
				PostgresURL(t)
			}
			fn(t, kind)
		})
	}
}
