package models

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenSQLite opens (creating if needed) the SQLite database at path with WAL,
// foreign keys, a busy timeout, durable commits and write transactions that
// take the write lock at BEGIN, so that concurrent writers queue instead of
// failing with "database is locked" half-way.
func OpenSQLite(path string, now func() time.Time) (*gorm.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig(now))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: sqlite pool: %w", err)
	}
	// One writer at a time is SQLite's rule; a few connections let readers run beside it.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// OpenPostgres connects to PostgreSQL.
func OpenPostgres(dsn string, now func() time.Time) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(dsn), gormConfig(now))
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: postgres pool: %w", err)
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(5)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

func gormConfig(now func() time.Time) *gorm.Config {
	return &gorm.Config{
		TranslateError: true,
		NowFunc:        func() time.Time { return now().UTC().Truncate(time.Microsecond) },
		Logger:         logger.Default.LogMode(logger.Silent),
	}
}

// Ping checks that the database answers, for /readyz.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// QuickCheck runs SQLite's PRAGMA quick_check, which reads every page of
// the database file, and returns an error listing what it found wrong. On
// PostgreSQL, which checks its own pages, it does nothing.
func QuickCheck(ctx context.Context, db *gorm.DB) error {
	if db.Dialector.Name() != "sqlite" {
		return nil
	}
	var lines []string
	if err := db.WithContext(ctx).Raw("PRAGMA quick_check").Scan(&lines).Error; err != nil {
		// SQLite stops the check itself at some damage ("database disk image is malformed").
		return fmt.Errorf("store: quick_check could not read the database, which is damaged: %w", err)
	}
	if len(lines) == 1 && lines[0] == "ok" {
		return nil
	}
	lines = strings.Split(strings.Join(lines, "\n"), "\n") // a row may hold several lines
	const most = 10
	if len(lines) > most {
		lines = append(lines[:most], fmt.Sprintf("… and %d more", len(lines)-most))
	}
	return fmt.Errorf("store: quick_check found the database damaged:\n  %s", strings.Join(lines, "\n  "))
}

// Fresh reports whether no migration has ever been applied to the database:
// it is new, or was emptied.
func Fresh(ctx context.Context, db *gorm.DB) (bool, error) {
	db = db.WithContext(ctx)
	if !db.Migrator().HasTable("schema_migrations") {
		return true, nil
	}
	var n int64
	if err := db.Table("schema_migrations").Count(&n).Error; err != nil {
		return false, fmt.Errorf("store: count migrations: %w", err)
	}
	return n == 0, nil
}

// Close closes the pool.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
