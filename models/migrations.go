package models

import (
	"context"
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// migrateLockKey is the PostgreSQL advisory lock held while migrating, so
// that instances starting together migrate one after the other.
const migrateLockKey = 0x4b41_4955_4d49_4752 // "KAIUMIGR"

// migrations lists every schema change in order. Never edit one that has
// shipped: add a new one.
func migrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		{
			ID: "2026112701_foundation",
			Migrate: func(tx *gorm.DB) error {
				// Frozen copies of the types as they were at this migration would be
				// the strict form; the types have not changed since, so they serve.
				if err := tx.AutoMigrate(&Organisation{}, &User{}, &Session{}, &LoginAttempt{},
					&AuditEntry{}, &Programme{}, &Call{}); err != nil {
					return err
				}
				return appendOnlyAudit(tx)
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&Call{}, &Programme{}, &AuditEntry{}, &LoginAttempt{},
					&Session{}, &User{}, &Organisation{})
			},
		},
		{
			ID: "2026112702_applications",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&Call{}, &Criterion{}, &RequiredDocument{}, &StoredFile{},
					&Application{}, &ConsortiumMember{}, &ApplicationDocument{}, &ReviewAssignment{}, &Score{},
					&Decision{}, &DecisionEntry{}); err != nil {
					return err
				}
				return immutable(tx, "decisions", "decision_entries")
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&DecisionEntry{}, &Decision{}, &Score{}, &ReviewAssignment{},
					&ApplicationDocument{}, &ConsortiumMember{}, &Application{}, &StoredFile{}, &RequiredDocument{}, &Criterion{})
			},
		},
		{
			ID: "2026112703_appeals_naming",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&Decision{}, &ExtraHoliday{}, &Appeal{}, &AppealEvidence{}, &NamingGrant{})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.Migrator().DropTable(&NamingGrant{}, &AppealEvidence{}, &Appeal{}, &ExtraHoliday{}); err != nil {
					return err
				}
				return tx.Migrator().DropColumn(&Decision{}, "SupersedesID")
			},
		},
		{
			ID: "2026112704_gpus",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&Cluster{}, &GPU{}, &Allocation{}, &AllocationGPU{}, &GPURollup{}, &GPURollupDay{}, &ClusterLease{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&ClusterLease{}, &GPURollupDay{}, &GPURollup{}, &AllocationGPU{}, &Allocation{}, &GPU{}, &Cluster{})
			},
		},
	}
}

// schemaModels are the types whose tables the migrations create. Readiness
// checks that each table is there; a test checks that the list names every
// table a migrated database has, so add a migration's new types here too.
func schemaModels() []any {
	return []any{
		&Organisation{}, &User{}, &Session{}, &LoginAttempt{}, &AuditEntry{}, &Programme{}, &Call{},
		&Criterion{}, &RequiredDocument{}, &StoredFile{}, &Application{}, &ConsortiumMember{},
		&ApplicationDocument{}, &ReviewAssignment{}, &Score{}, &Decision{}, &DecisionEntry{},
		&ExtraHoliday{}, &Appeal{}, &AppealEvidence{}, &NamingGrant{},
		&Cluster{}, &GPU{}, &Allocation{}, &AllocationGPU{}, &GPURollup{}, &GPURollupDay{}, &ClusterLease{},
	}
}

// immutable makes the database refuse updates and deletes of published rows.
func immutable(tx *gorm.DB, tables ...string) error {
	for _, t := range tables {
		var stmts []string
		switch tx.Dialector.Name() {
		case "sqlite":
			stmts = []string{
				`CREATE TRIGGER ` + t + `_no_update BEFORE UPDATE ON ` + t + ` BEGIN SELECT RAISE(ABORT, '` + t + ` are immutable once published'); END`,
				`CREATE TRIGGER ` + t + `_no_delete BEFORE DELETE ON ` + t + ` BEGIN SELECT RAISE(ABORT, '` + t + ` are immutable once published'); END`,
			}
		case "postgres":
			stmts = []string{
				`CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger AS $$
				 BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER ` + t + `_no_change BEFORE UPDATE OR DELETE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
				`CREATE TRIGGER ` + t + `_no_truncate BEFORE TRUNCATE ON ` + t + ` FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()`,
			}
		}
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// appendOnlyAudit makes the database itself refuse updates and deletes of
// audit rows, so the application cannot rewrite history by mistake.
func appendOnlyAudit(tx *gorm.DB) error {
	var stmts []string
	switch tx.Dialector.Name() {
	case "sqlite":
		stmts = []string{
			`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
			 BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END`,
			`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
			 BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END`,
		}
	case "postgres":
		stmts = []string{
			`CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
			 BEGIN RAISE EXCEPTION 'audit trail is append-only'; END; $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
			 FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
			// Row triggers do not fire on TRUNCATE, which would empty the trail in one statement.
			`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
			 FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`,
		}
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

// Migrate brings the schema up to date. On PostgreSQL it holds an advisory
// lock on one connection for the whole run, so concurrent starts are safe.
func Migrate(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	run := func(tx *gorm.DB) error {
		m := gormigrate.New(tx, &gormigrate.Options{
			TableName:                 "schema_migrations",
			IDColumnName:              "id",
			IDColumnSize:              255,
			UseTransaction:            true,
			ValidateUnknownMigrations: true,
		}, migrations())
		return m.Migrate()
	}
	if db.Dialector.Name() != "postgres" {
		if err := run(db); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		return nil
	}
	err := db.Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("SELECT pg_advisory_lock(?)", migrateLockKey).Error; err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer conn.Exec("SELECT pg_advisory_unlock(?)", migrateLockKey)
		return run(conn)
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// PendingMigrations reports how many migrations have not been applied.
func PendingMigrations(ctx context.Context, db *gorm.DB) (int, error) {
	var applied []string
	if !db.Migrator().HasTable("schema_migrations") {
		return len(migrations()), nil
	}
	if err := db.WithContext(ctx).Table("schema_migrations").Pluck("id", &applied).Error; err != nil {
		return 0, fmt.Errorf("store: read migrations: %w", err)
	}
	done := map[string]bool{}
	for _, id := range applied {
		done[id] = true
	}
	n := 0
	for _, m := range migrations() {
		if !done[m.ID] {
			n++
		}
	}
	return n, nil
}
