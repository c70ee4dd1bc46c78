package models_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The start-up check of the newest audit rows finds what a full walk finds
// among them, and nothing before them.
func TestVerifyAuditTail(t *testing.T) {
	t.Parallel()
	type tamper func(t *testing.T, db *gorm.DB, rows []models.AuditEntry)
	summary := func(i int) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			t.Helper()
			if err := db.Model(&models.AuditEntry{}).Where("id = ?", rows[i].ID).Update("summary", "nothing happened").Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(i int) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			t.Helper()
			if err := db.Delete(&models.AuditEntry{}, rows[i].ID).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		n      int
		tamper tamper
		broken int // index of the original row reported broken; -1 none
		rows   int // rows checked
	}{
		{"whole, tail of 3", 3, nil, -1, 3},
		{"whole, tail longer than the trail", 100, nil, -1, 8},
		{"newest row altered", 3, summary(7), 7, 3},
		{"row in the tail altered", 3, summary(5), 5, 1},
		{"row before the tail altered: not the tail's business", 3, summary(2), -1, 3},
		{"row just before the tail removed: the tail's first link breaks", 3, remove(4), 5, 1},
		{"first row removed, whole trail checked", 100, remove(0), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				appendAudit(t, db, clock, 8)
				rows := auditRows(t, db)
				if tt.tamper != nil {
					dropAuditTriggers(t, db)
					tt.tamper(t, db, rows)
				}
				check, err := models.VerifyAuditTail(t.Context(), db, tt.n)
				if err != nil {
					t.Fatal(err)
				}
				var want uint
				if tt.broken >= 0 {
					want = rows[tt.broken].ID
				}
				if check.BrokenID != want || check.Rows != tt.rows {
					t.Errorf("check = %+v, want row %d broken after %d rows", check, want, tt.rows)
				}
			})
		})
	}
}

// An empty trail is whole.
func TestVerifyAuditTailEmpty(t *testing.T) {
	t.Parallel()
	testdb.Each(t, clockNow, func(t *testing.T, db *gorm.DB) {
		check, err := models.VerifyAuditTail(t.Context(), db, 100)
		if err != nil || !check.OK() || check.Rows != 0 {
			t.Errorf("empty trail: %+v, %v", check, err)
		}
	})
}

// A database is fresh until a migration has been applied to it.
func TestFresh(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		fresh := func(db *gorm.DB) bool {
			t.Helper()
			f, err := models.Fresh(t.Context(), db)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if !fresh(testdb.OpenEmpty(t, kind, clockNow)) {
			t.Error("an empty database is not fresh")
		}
		db := testdb.Open(t, kind, clockNow)
		if fresh(db) {
			t.Error("a migrated database is fresh")
		}
		if err := db.Exec("DELETE FROM schema_migrations").Error; err != nil {
			t.Fatal(err)
		}
		if !fresh(db) {
			t.Error("a database whose migration rows are gone is not fresh")
		}
	})
}

// corruptSQLite fills a SQLite file with a table of many pages, then
// overwrites the page headers of some of them, as a failing disk would.
func corruptSQLite(t *testing.T, path string) {
	t.Helper()
	db, err := models.OpenSQLite(path, clockNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE filler (b BLOB)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(400) FROM n",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	models.Close(db)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	const page = 4096
	for off := fi.Size() - 20*page; off < fi.Size(); off += 3 * page {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 16), off); err != nil {
			t.Fatal(err)
		}
	}
}

// quick_check passes a whole SQLite file and names the damage in a broken one.
func TestQuickCheck(t *testing.T) {
	t.Parallel()
	testdb.Each(t, clockNow, func(t *testing.T, db *gorm.DB) {
		if err := models.QuickCheck(t.Context(), db); err != nil {
			t.Fatalf("a whole database: %v", err)
		}
	})
	path := filepath.Join(t.TempDir(), "portal.db")
	corruptSQLite(t, path)
	db, err := models.OpenSQLite(path, clockNow)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	err = models.QuickCheck(t.Context(), db)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged database: err = %v, want one saying it is damaged", err)
	}
}

// CountContents counts what the store holds, not files being written.
func TestCountContents(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t)
	count := func() int {
		t.Helper()
		n, err := s.CountContents()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Errorf("new store counts %d", n)
	}
	if err := os.WriteFile(filepath.Join(dir, ".upload-1"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"%PDF-1 a", "%PDF-1 b", "%PDF-1 a"} {
		if _, _, err := s.Put(strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 2 {
		t.Errorf("store of two contents counts %d", n)
	}
}
