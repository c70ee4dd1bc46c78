package models_test

import (
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// Every table of a migrated database either moves the data version on each
// change or is one of the few left out on purpose: a table added without
// its triggers (or whose triggers a table rebuild dropped) fails here.
func TestDataVersionTriggersCoverEveryTable(t *testing.T) {
	testdb.Each(t, newClock().Now, func(t *testing.T, db *gorm.DB) {
		versioned, err := models.VersionTriggers(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		if len(versioned) < 20 {
			t.Fatalf("only %d tables listed: %v", len(versioned), versioned)
		}
		left := models.UnversionedTables()
		for table, ok := range versioned {
			switch {
			case !ok && !slices.Contains(left, table):
				t.Errorf("table %s has no data version triggers: give it versionTables in its migration", table)
			case ok && slices.Contains(left, table):
				t.Errorf("table %s is listed as unversioned but has the triggers", table)
			}
		}
		for _, table := range []string{"calls", "decisions", "users", "audit_entries", "naming_grants", "schema_migrations"} {
			if !versioned[table] {
				t.Errorf("table %s is not versioned", table)
			}
		}
	})
}

// A change committed through another connection pool (another portal
// instance) moves the version as this pool reads it; a rolled-back change
// and a change to an unversioned table do not; an uncommitted change is
// not seen.
func TestDataVersionMovesOnCommittedChanges(t *testing.T) {
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		other := testdb.OpenAgain(t, db, clock.Now)
		reader := models.NewVersionReader(db)
		read := func() int64 {
			t.Helper()
			n, err := reader.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m, err := models.ReadDataVersion(ctx, db); err != nil || m != n {
				t.Fatalf("ReadDataVersion = %d, %v; the prepared read gave %d", m, err, n)
			}
			return n
		}
		v0 := read()

		org := &models.Organisation{Code: "dv-1", NameKO: "버전", NameEN: "Version"}
		if err := other.Create(org).Error; err != nil {
			t.Fatal(err)
		}
		v1 := read()
		if v1 <= v0 {
			t.Fatalf("version after an insert through another pool = %d, was %d", v1, v0)
		}
		if err := other.Model(org).Update("name_en", "Version 2").Error; err != nil {
			t.Fatal(err)
		}
		v2 := read()
		if v2 <= v1 {
			t.Fatalf("version after an update = %d, was %d", v2, v1)
		}

		// Several rows in one transaction: the version moves, once or more.
		err := other.Transaction(func(tx *gorm.DB) error {
			for _, code := range []string{"dv-2", "dv-3"} {
				if err := tx.Create(&models.Organisation{Code: code, NameKO: code, NameEN: code}).Error; err != nil {
					return err
				}
			}
			// Not committed yet: this pool still reads the old version.
			if n := read(); n != v2 {
				t.Errorf("version seen before the commit = %d, want %d", n, v2)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		v3 := read()
		if v3 <= v2 {
			t.Fatalf("version after a committed transaction = %d, was %d", v3, v2)
		}

		// Rolled back: no move.
		tx := other.Begin()
		if err := tx.Create(&models.Organisation{Code: "dv-4", NameKO: "x", NameEN: "x"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback().Error; err != nil {
			t.Fatal(err)
		}
		if n := read(); n != v3 {
			t.Errorf("version after a rollback = %d, want %d", n, v3)
		}

		// Deleted: moves.
		if err := other.Delete(org).Error; err != nil {
			t.Fatal(err)
		}
		v4 := read()
		if v4 <= v3 {
			t.Fatalf("version after a delete = %d, was %d", v4, v3)
		}

		// A sign-in state used (an unversioned table) leaves it.
		if err := models.UseLoginState(ctx, other, "state-1", clock.Now().Add(time.Hour), clock.Now()); err != nil {
			t.Fatal(err)
		}
		if n := read(); n != v4 {
			t.Errorf("version after a change to used_login_states = %d, want %d", n, v4)
		}
	})
}
