package testdb_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func now() time.Time { return t0 }

// schemaOf describes everything a migrated database holds apart from the
// tables' rows: each object's definition, with the schema's own name taken
// out, sorted.
func schemaOf(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var defs []string
	switch db.Dialector.Name() {
	case "sqlite":
		// gorm writes a table's constraints in no fixed order: compare
		// columns and foreign keys as SQLite reports them, the rest as written.
		for _, q := range []string{
			`SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
				WHERE type <> 'table' AND name NOT LIKE 'sqlite_%'`,
			`SELECT 'column ' || m.name || '.' || c.name || ' ' || c.type || ' ' || c."notnull" || ' ' ||
				COALESCE(c.dflt_value, '') || ' ' || c.pk
				FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'`,
			`SELECT 'foreign key ' || m.name || '.' || f."from" || ' ' || f."table" || '.' || f."to" || ' ' ||
				f.on_update || ' ' || f.on_delete
				FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
		} {
			var rows []string
			if err := db.Raw(q).Scan(&rows).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defs = append(defs, rows...)
		}
	case "postgres":
		var schema string
		if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
				COALESCE(column_default, '') || ' ' || COALESCE(character_maximum_length::text, '')
				FROM information_schema.columns WHERE table_schema = current_schema()`,
			`SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()`,
			`SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid)
				FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
			`SELECT 'trigger ' || tgname || ': ' || pg_get_triggerdef(oid) FROM pg_trigger
				WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)`,
			`SELECT 'function ' || proname || ': ' || pg_get_functiondef(oid) FROM pg_proc
				WHERE pronamespace = current_schema()::regnamespace`,
			`SELECT 'sequence ' || sequencename || ' ' || start_value || ' ' || increment_by || ' ' || COALESCE(last_value, 0)
				FROM pg_sequences WHERE schemaname = current_schema()`,
		} {
			var rows []string
			if err := db.Raw(q).Scan(&rows).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			for _, r := range rows {
				defs = append(defs, strings.ReplaceAll(r, schema, "SCHEMA"))
			}
		}
	}
	slices.Sort(defs)
	return defs
}

// rowsOf lists the rows the migrations insert.
func rowsOf(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		"SELECT id FROM schema_migrations ORDER BY id",
		"SELECT version || ' ' || CAST(in_effect_from AS TEXT) FROM holiday_builtin_versions ORDER BY version",
		"SELECT CAST(id AS TEXT) || ' ' || last_hash || ' ' || CAST(row_count AS TEXT) FROM audit_checkpoints",
	} {
		var rows []string
		if err := db.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, rows...)
	}
	return out
}

// A database from the template is the one the migrations make: the same
// tables, columns, indexes, constraints, sequences, functions, triggers and
// rows; on PostgreSQL both a new schema and one used again. (Not parallel:
// no other test may take the schema used again.)
func TestOpenIsWhatMigrateMakes(t *testing.T) {
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		migrated := testdb.OpenEmpty(t, kind, now)
		if err := models.Migrate(t.Context(), migrated); err != nil {
			t.Fatal(err)
		}
		want, wantRows := schemaOf(t, migrated), rowsOf(t, migrated)
		if len(want) < 50 || len(wantRows) == 0 {
			t.Fatalf("the migrated database describes only %d objects and %d rows: %q", len(want), len(wantRows), want)
		}
		check := func(t *testing.T, db *gorm.DB) {
			t.Helper()
			if got := schemaOf(t, db); !slices.Equal(got, want) {
				for _, d := range want {
					if !slices.Contains(got, d) {
						t.Errorf("template lacks %s", d)
					}
				}
				for _, d := range got {
					if !slices.Contains(want, d) {
						t.Errorf("template has, Migrate does not: %s", d)
					}
				}
			}
			if got := rowsOf(t, db); !slices.Equal(got, wantRows) {
				t.Errorf("rows: template %q, migrated %q", got, wantRows)
			}
			if n, err := models.PendingMigrations(t.Context(), db); err != nil || n != 0 {
				t.Errorf("pending migrations on the template's copy: %d, %v", n, err)
			}
		}
		var first string
		t.Run("new", func(t *testing.T) {
			db := testdb.Open(t, kind, now)
			check(t, db)
			if kind == testdb.Postgres {
				first = currentSchema(t, db)
			}
		})
		if kind == testdb.Postgres {
			t.Run("used again", func(t *testing.T) {
				db := testdb.Open(t, kind, now)
				if s := currentSchema(t, db); s != first {
					t.Fatalf("got schema %s, want %s used again", s, first)
				}
				check(t, db)
			})
		}
	})
}

// The rules the database enforces come with the copy: the audit trail
// refuses updates and deletes, published decisions are immutable, ids count
// from 1 in each copy on its own.
func TestOpenKeepsTheDatabaseRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, now, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := db.Create(&models.AuditEntry{At: t0, Actor: "test", Action: "test", ObjectType: "test", ObjectID: "1",
			Hash: "h"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.WithContext(ctx).Exec("UPDATE audit_entries SET action = 'rewritten'").Error; err == nil ||
			!strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE of an audit row: %v, want the append-only trigger's refusal", err)
		}
		if err := db.Exec("DELETE FROM audit_entries").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("DELETE of an audit row: %v, want the append-only trigger's refusal", err)
		}
		if db.Dialector.Name() == "postgres" {
			if err := db.Exec("TRUNCATE audit_entries").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("TRUNCATE of the audit trail: %v, want the append-only trigger's refusal", err)
			}
		}
		org := models.Organisation{Code: "first", NameKO: "첫째", NameEN: "First", Kind: "company"}
		if err := db.Create(&org).Error; err != nil {
			t.Fatal(err)
		}
		if org.ID != 1 {
			t.Errorf("the first organisation in a fresh copy has id %d, want 1", org.ID)
		}
	})
}

// Two tests' databases are apart: a row written in one is not in the other.
func TestOpenGivesEachTestItsOwnDatabase(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		a, b := testdb.Open(t, kind, now), testdb.Open(t, kind, now)
		if err := a.Create(&models.Organisation{Code: "only-a", NameKO: "가", NameEN: "A", Kind: "company"}).Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := b.Model(&models.Organisation{}).Count(&n).Error; err != nil || n != 0 {
			t.Errorf("the second database has %d organisations (%v), want 0", n, err)
		}
	})
}

func currentSchema(t *testing.T, db *gorm.DB) string {
	t.Helper()
	var s string
	if err := db.Raw("SELECT current_schema()").Scan(&s).Error; err != nil || s == "" {
		t.Fatalf("current schema: %q, %v", s, err)
	}
	return s
}

// A PostgreSQL schema is used again by a later test once emptied: its rows
// are gone, its sequences restart, the migrations' rows and the database's
// rules are back. (Not parallel: no other test may take the schema first.)
func TestReusedSchemaIsAsNew(t *testing.T) {
	testdb.PostgresURL(t)
	var first string
	t.Run("use", func(t *testing.T) {
		db := testdb.Open(t, testdb.Postgres, now)
		first = currentSchema(t, db)
		for _, code := range []string{"a", "b"} {
			if err := db.Create(&models.Organisation{Code: code, NameKO: code, NameEN: code, Kind: "company"}).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Create(&models.AuditEntry{At: t0, Actor: "test", Action: "test", ObjectType: "test", ObjectID: "1",
			Hash: "h"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM schema_migrations").Error; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("again", func(t *testing.T) {
		db := testdb.Open(t, testdb.Postgres, now)
		if s := currentSchema(t, db); s != first {
			t.Fatalf("the second test got schema %s, want %s used again", s, first)
		}
		for _, table := range []string{"organisations", "audit_entries"} {
			var n int64
			if err := db.Table(table).Count(&n).Error; err != nil || n != 0 {
				t.Errorf("%s: %d rows (%v), want none", table, n, err)
			}
		}
		if n, err := models.PendingMigrations(t.Context(), db); err != nil || n != 0 {
			t.Errorf("pending migrations: %d, %v", n, err)
		}
		org := models.Organisation{Code: "c", NameKO: "c", NameEN: "c", Kind: "company"}
		if err := db.Create(&org).Error; err != nil || org.ID != 1 {
			t.Errorf("first organisation: id %d (%v), want 1", org.ID, err)
		}
		if err := db.Create(&models.AuditEntry{At: t0, Actor: "test", Action: "test", ObjectType: "test", ObjectID: "1",
			Hash: "h"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE audit_entries SET action = 'rewritten'").Error; err == nil ||
			!strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE of an audit row: %v, want the append-only trigger's refusal", err)
		}
	})
}

// A schema whose definition a test changed is dropped, not used again.
func TestChangedSchemaIsDropped(t *testing.T) {
	testdb.PostgresURL(t)
	var first string
	t.Run("change", func(t *testing.T) {
		db := testdb.Open(t, testdb.Postgres, now)
		first = currentSchema(t, db)
		if err := db.Exec("ALTER TABLE organisations ADD COLUMN extra text").Error; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after", func(t *testing.T) {
		db := testdb.Open(t, testdb.Postgres, now)
		if s := currentSchema(t, db); s == first {
			t.Fatalf("the changed schema %s was used again", s)
		}
		var n int64
		if err := db.Raw("SELECT count(*) FROM pg_namespace WHERE nspname = ?", first).Scan(&n).Error; err != nil || n != 0 {
			t.Errorf("the changed schema %s is still there (%d, %v)", first, n, err)
		}
	})
}

// A schema whose definition a test changed and then put back exactly is
// emptied and used again: its catalog rows are new, so the fingerprint of
// its definitions decides.
func TestRestoredSchemaIsReused(t *testing.T) {
	testdb.PostgresURL(t)
	var first string
	t.Run("change and restore", func(t *testing.T) {
		db := testdb.Open(t, testdb.Postgres, now)
		first = currentSchema(t, db)
		var def string
		if err := db.Raw(`SELECT pg_get_triggerdef(oid) FROM pg_trigger
			WHERE tgrelid = 'audit_entries'::regclass AND tgname = 'audit_entries_no_change'`).Scan(&def).Error; err != nil || def == "" {
			t.Fatalf("trigger definition %q: %v", def, err)
		}
		for _, q := range []string{"DROP TRIGGER audit_entries_no_change ON audit_entries", def} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})
	for _, round := range []string{"after", "again"} {
		t.Run(round, func(t *testing.T) {
			db := testdb.Open(t, testdb.Postgres, now)
			if s := currentSchema(t, db); s != first {
				t.Fatalf("got schema %s, want the restored %s again", s, first)
			}
		})
	}
}
