package models_test

import (
	"os"
	"sync"
	"testing"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// firstMigration is the ID of the foundation migration; it never changes.
const firstMigration = "2026112701_foundation"

// appliedMigrations returns how many times each migration ID is recorded.
func appliedMigrations(t *testing.T, db *gorm.DB) map[string]int {
	t.Helper()
	var rows []struct {
		ID string
		N  int
	}
	err := db.WithContext(t.Context()).Table("schema_migrations").
		Select("id, COUNT(*) AS n").Group("id").Scan(&rows).Error
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	got := map[string]int{}
	for _, r := range rows {
		got[r.ID] = r.N
	}
	return got
}

// wantAuditTriggers is the number of append-only triggers: on SQLite one for
// UPDATE and one for DELETE; on PostgreSQL one for UPDATE or DELETE and one
// for TRUNCATE.
const wantAuditTriggers = 2

// auditTriggers counts the triggers that keep audit_entries append-only
// (not those that move the data version).
func auditTriggers(t *testing.T, db *gorm.DB) int {
	t.Helper()
	q := map[string]string{
		"sqlite": "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'" +
			" AND name NOT LIKE '%data_version%'",
		"postgres": "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal" +
			" AND tgname NOT LIKE '%data_version%'",
	}[db.Dialector.Name()]
	var n int
	if err := db.WithContext(t.Context()).Raw(q).Scan(&n).Error; err != nil {
		t.Fatalf("count triggers: %v", err)
	}
	return n
}

func pending(t *testing.T, db *gorm.DB) int {
	t.Helper()
	n, err := models.PendingMigrations(t.Context(), db)
	if err != nil {
		t.Fatalf("PendingMigrations: %v", err)
	}
	return n
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	for _, kind := range []testdb.Kind{testdb.SQLite, testdb.Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			clock := newClock()
			db := testdb.OpenEmpty(t, kind, clock.Now)
			ctx := t.Context()

			before := pending(t, db)
			if before < 1 {
				t.Fatalf("pending on an empty database = %d, want every migration (at least 1)", before)
			}
			if err := models.Migrate(ctx, db); err != nil {
				t.Fatalf("first Migrate: %v", err)
			}
			if n := pending(t, db); n != 0 {
				t.Errorf("pending after Migrate = %d, want 0", n)
			}
			for _, m := range []any{&models.Organisation{}, &models.User{}, &models.Session{}, &models.UsedLoginState{},
				&models.AuditEntry{}, &models.Programme{}, &models.Call{}} {
				if !db.Migrator().HasTable(m) {
					t.Errorf("no table for %T after Migrate", m)
				}
			}
			if err := demo.Seed(ctx, db, clock.Now()); err != nil {
				t.Fatal(err)
			}
			orgs := count(t, db, &models.Organisation{})

			if err := models.Migrate(ctx, db); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if n := pending(t, db); n != 0 {
				t.Errorf("pending after the second Migrate = %d, want 0", n)
			}
			applied := appliedMigrations(t, db)
			if len(applied) != before || applied[firstMigration] != 1 {
				t.Errorf("schema_migrations = %v, want %d IDs including %s", applied, before, firstMigration)
			}
			for id, n := range applied {
				if n != 1 {
					t.Errorf("migration %s recorded %d times, want once", id, n)
				}
			}
			if n := auditTriggers(t, db); n != wantAuditTriggers {
				t.Errorf("audit triggers = %d, want %d", n, wantAuditTriggers)
			}
			if n := count(t, db, &models.Organisation{}); n != orgs {
				t.Errorf("organisations = %d after the second Migrate, want the %d seeded", n, orgs)
			}
		})
	}
}

// TestMigrateConcurrentPostgres starts two portal instances on one fresh
// schema at the same moment: the advisory lock makes one wait for the other.
func TestMigrateConcurrentPostgres(t *testing.T) {
	t.Parallel()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("concurrent migration is a PostgreSQL test (advisory lock): TEST_DATABASE_URL is not set")
	}
	const rounds = 3
	for range rounds {
		clock := newClock()
		first := testdb.OpenEmpty(t, testdb.Postgres, clock.Now)
		second := testdb.OpenAgain(t, first, clock.Now)
		want := pending(t, first)

		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [2]error
		)
		for i, db := range []*gorm.DB{first, second} {
			wg.Go(func() {
				<-start
				errs[i] = models.Migrate(t.Context(), db)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate on pool %d: %v", i+1, err)
			}
		}
		for i, db := range []*gorm.DB{first, second} {
			if n := pending(t, db); n != 0 {
				t.Errorf("pool %d sees %d pending migrations, want 0", i+1, n)
			}
		}
		applied := appliedMigrations(t, first)
		if len(applied) != want || applied[firstMigration] != 1 {
			t.Errorf("schema_migrations = %v, want %d IDs including %s", applied, want, firstMigration)
		}
		for id, n := range applied {
			if n != 1 {
				t.Errorf("migration %s recorded %d times, want once", id, n)
			}
		}
		if n := auditTriggers(t, first); n != wantAuditTriggers {
			t.Errorf("audit triggers = %d, want %d", n, wantAuditTriggers)
		}
	}
}

func TestOpenAgainSharesTheDatabase(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		again := testdb.OpenAgain(t, db, clock.Now)
		mustOrg(t, db, "shared")
		if _, err := models.GetOrganisationByCode(t.Context(), again, "shared"); err != nil {
			t.Errorf("the second pool does not see the first's row: %v", err)
		}
	})
}
