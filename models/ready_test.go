package models_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"kaiportal/models"
	"kaiportal/testdb"
)

// lastMigration is the ID of the newest migration.
const lastMigration = "2026112704_gpus"

// dropTable drops a table, and on PostgreSQL what depends on it.
func dropTable(t *testing.T, db *gorm.DB, table string) {
	t.Helper()
	q := "DROP TABLE " + table
	if db.Dialector.Name() == "postgres" {
		q += " CASCADE"
	}
	if err := db.Exec(q).Error; err != nil {
		t.Fatalf("drop %s: %v", table, err)
	}
}

// readOnly opens the database again as a connection that may not write: a
// SQLite file opened read-only, a PostgreSQL session whose transactions are
// read-only (as on a standby).
func readOnly(t *testing.T, db *gorm.DB) *gorm.DB {
	t.Helper()
	var ro *gorm.DB
	var err error
	switch db.Dialector.Name() {
	case "sqlite":
		var file string
		if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
			t.Fatal(err)
		}
		ro, err = gorm.Open(sqlite.Open("file:"+file+"?mode=ro"), &gorm.Config{Logger: logger.Discard})
	case "postgres":
		var schema string
		if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			t.Fatal(err)
		}
		ro, err = models.OpenPostgres(testdb.WithSearchPath(testdb.PostgresURL(t), schema)+
			"&default_transaction_read_only=on", clockNow)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(ro) })
	return ro
}

func clockNow() time.Time { return t0 }

// Readiness fails, naming the check, for each way a filing would fail.
func TestReady(t *testing.T) {
	t.Parallel()
	type breaker func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB
	tests := []struct {
		name   string
		breaks breaker
		check  string // "" when ready
		says   string
	}{
		{"whole", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB { return db }, "", ""},
		{"a table dropped", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			dropTable(t, db, "appeal_evidences")
			return db
		}, "schema", "appeal_evidences"},
		{"the table the probe writes dropped", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			dropTable(t, db, "stored_files")
			return db
		}, "database", "a write fails"},
		{"the last migration's row missing", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			if err := db.Exec("DELETE FROM schema_migrations WHERE id = ?", lastMigration).Error; err != nil {
				t.Fatal(err)
			}
			return db
		}, "schema", lastMigration},
		{"the database refuses writes", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			return readOnly(t, db)
		}, "database", "a write fails"},
		{"the file store is a file", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			dir := o.Dirs[1]
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("in the way"), 0o600); err != nil {
				t.Fatal(err)
			}
			return db
		}, "storage", "not a directory"},
		{"less free space than required", func(t *testing.T, db *gorm.DB, o *models.ReadyOptions) *gorm.DB {
			o.FreeBytes = func(string) (uint64, error) { return 4096, nil }
			return db
		}, "disk", "4096 bytes free"},
	}
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db := testdb.Open(t, kind, clockNow)
				data := t.TempDir()
				files := filepath.Join(data, "files")
				if err := os.Mkdir(files, 0o750); err != nil {
					t.Fatal(err)
				}
				o := models.ReadyOptions{Dirs: []string{data, files}, MinFree: 1 << 20,
					FreeBytes: func(string) (uint64, error) { return 1 << 30, nil }}
				db = tt.breaks(t, db, &o)
				problems := models.Ready(t.Context(), db, o, t0)
				t.Logf("problems: %v", problems)
				if tt.check == "" {
					if len(problems) > 0 {
						t.Fatalf("problems %v, want none", problems)
					}
					return
				}
				i := slices.IndexFunc(problems, func(p models.ReadyProblem) bool {
					return p.Check == tt.check && strings.Contains(p.Detail, tt.says)
				})
				if i < 0 {
					t.Fatalf("problems %v, want a %q one saying %q", problems, tt.check, tt.says)
				}
				// The probe leaves nothing behind: no row, no file.
				var n int64
				if db.Table("stored_files").Count(&n); n != 0 {
					t.Errorf("%d stored_files rows after the probe, want 0", n)
				}
				for _, d := range o.Dirs {
					if left, _ := filepath.Glob(filepath.Join(d, ".ready-*")); len(left) > 0 {
						t.Errorf("probe files left: %v", left)
					}
				}
			})
		}
	})
}

// The schema check knows every table the migrations create: with all of
// them dropped, it names each one.
func TestReadyKnowsEveryTable(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		db := testdb.Open(t, kind, clockNow)
		tables, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatal(err)
		}
		var dropped []string
		for _, tb := range tables {
			if tb == "schema_migrations" || strings.HasPrefix(tb, "sqlite_") {
				continue
			}
			dropped = append(dropped, tb)
		}
		// On SQLite, with foreign keys off for the connection that drops them.
		err = db.Connection(func(conn *gorm.DB) error {
			if kind == testdb.SQLite {
				if err := conn.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
					return err
				}
			}
			for _, tb := range dropped {
				dropTable(t, conn, tb)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		problems := models.Ready(t.Context(), db, models.ReadyOptions{}, t0)
		var said string
		for _, p := range problems {
			if p.Check == "schema" {
				said += p.Detail
			}
		}
		for _, tb := range dropped {
			if !strings.Contains(said, " "+tb) {
				t.Errorf("table %s dropped, but the schema check does not name it: %q", tb, said)
			}
		}
	})
}
