package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// SQLiteBusyTimeout is how long, by default, a statement on SQLite waits for
// another connection's lock before failing with "database is locked".
const SQLiteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the SQLite database at path with WAL,
// foreign keys, a busy timeout, durable commits and write transactions that
// take the write lock at BEGIN, so that concurrent writers queue instead of
// failing with "database is locked" half-way.
func OpenSQLite(path string, now func() time.Time) (*gorm.DB, error) {
	return OpenSQLiteWait(path, now, SQLiteBusyTimeout)
}

// OpenSQLiteWait is OpenSQLite with the busy timeout given. SQLite keeps
// waiting for a lock after the statement's context has ended, so the portal
// sets it to its request deadline: a database locked by another writer then
// fails the request in time instead of holding it.
func OpenSQLiteWait(path string, now func() time.Time, busy time.Duration) (*gorm.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.FormatInt(max(busy.Milliseconds(), 1), 10))
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + sqlitePathEscaper.Replace(path) + "?" + q.Encode()
	// Transactions queue in this process at the file's writeGate rather
	// than in SQLite's busy handler (see writeGate).
	pool := sql.OpenDB(&gatedConnector{dsn: dsn, busy: max(busy, time.Millisecond), gate: writeGateFor(path), drv: &sqlite3.SQLiteDriver{}})
	db, err := gorm.Open(sqlite.New(sqlite.Config{DSN: dsn, Conn: pool}), gormConfig(now))
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if err := db.Use(&preparedWrites{}); err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: sqlite pool: %w", err)
	}
	// One writer at a time is SQLite's rule; a few connections let readers
	// run beside it. All of them stay open when idle: database/sql keeps
	// two by default, and opening a SQLite connection (with its pragmas) on
	// every burst of requests cost more than the requests' reads.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// sqlitePathEscaper escapes what would end or change the path in a SQLite
// URI filename: "?" starts the parameters and "#" a fragment, so a data
// directory named "runs#2" would otherwise open "runs" instead; "%" starts
// an escape.
var sqlitePathEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// schemaLockKey is the argument list of a PostgreSQL advisory lock function
// for the key given as its parameter, in the schema in use. Advisory locks
// belong to the whole database, but what they serialise (the audit chain,
// allocations, seeding, migrations) belongs to one schema: portals, or
// tests, in separate schemas of one database do not wait for each other.
const schemaLockKey = "(?::bigint # hashtext(COALESCE(current_schema(), ''))::bigint)"

// SchemaLockKey is schemaLockKey for the packages outside models that
// serialise their own work (the demo seeding).
const SchemaLockKey = schemaLockKey

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
	// As many kept idle as may be open: with fewer, every burst above the
	// idle count closes connections and opens new ones (a server process
	// each, and the prepared statements of the web pool lost with them).
	// They still close after five idle minutes.
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

func gormConfig(now func() time.Time) *gorm.Config {
	return &gorm.Config{
		// For sessions with PrepareStmt (the web handlers'): at most this
		// many statements kept prepared, the least recently used dropped.
		PrepareStmtMaxSize: 500,
		TranslateError:     true,
		NowFunc:            func() time.Time { return now().UTC().Truncate(time.Microsecond) },
		Logger:             logger.Default.LogMode(logger.Silent),
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

// Unavailable reports whether err says that the database could not serve a
// request — unreachable, closed, restarting, locked past the busy timeout,
// out of disk, or past the request's deadline — rather than that the request
// or the code is at fault. Such a failure is worth retrying later: the
// portal answers it with 503. A cancelled context is not an outage (the
// caller went away) and is not reported here.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err) {
		return true
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "53300", // too_many_connections
			"55P03",                   // lock_not_available (lock_timeout)
			"57014",                   // query_canceled (statement_timeout, a cancelled query)
			"57P01", "57P02", "57P03": // the server shutting down, crashed, or starting
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exceptions
	}
	var liteErr sqlite3.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrInterrupt, sqlite3.ErrIoErr,
			sqlite3.ErrFull, sqlite3.ErrCantOpen, sqlite3.ErrReadonly, sqlite3.ErrProtocol:
			return true
		}
		return false
	}
	// database/sql's "database is closed" has no exported value to compare with.
	return strings.Contains(err.Error(), "sql: database is closed")
}
