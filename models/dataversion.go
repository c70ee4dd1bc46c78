package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// The data version is a number that every committed change to the data
// the pages show moves on: triggers on each such table bump it in the
// transaction that writes, whichever portal instance (or hand) wrote. A page
// made from the data at version n may be served again for as long as the
// version is still n (see handlers/pagecache.go): one read of one row by
// its primary key tells whether anything changed, on any instance.
//
// Tables that change often and that no cached page reads are left out
// (unversionedTables): sessions, sign-in states, kept forms and the GPU
// telemetry the collector writes every few seconds.

// DataVersion is the one row (ID 1) of the data version.
type DataVersion struct {
	ID uint  `gorm:"primaryKey;autoIncrement:false"`
	N  int64 `gorm:"not null;default:0"`
}

// dataVersionID is the data version's one row.
const dataVersionID = 1

// unversionedTables are the tables whose changes do not move the data
// version: each changes often (per request, per sign-in, per telemetry
// poll), and no cached page reads it. A test checks that every other table
// of a migrated database has the version triggers, and that the cached
// pages read none of these.
var unversionedTables = []string{
	"sessions", "used_login_states", "saved_forms", "inbox_messages", "notice_settings", "notice_preferences", "mail_jobs",
	"clusters", "gpus", "gpu_rollups", "gpu_rollup_days", "cluster_leases",
	"gpu_conflicts", "cluster_endpoints", "poll_failures", "poll_hours", "gpu_workload_hours",
	"data_versions", "sqlite_sequence",
}

// UnversionedTables returns unversionedTables.
func UnversionedTables() []string { return append([]string(nil), unversionedTables...) }

// dataVersionTrigger names the triggers that bump the version on table.
func dataVersionTrigger(table, event string) string { return table + "_data_version" + event }

// versionTables creates the data version's row (if missing) and the
// triggers that bump it on every insert, update and delete of the tables.
//
// On PostgreSQL the bump is a deferred constraint trigger: it runs at
// commit, after every other write of the transaction, so the version row's
// lock is the last one a transaction takes and never closes a deadlock;
// it bumps once per transaction however many rows it wrote. TRUNCATE, which
// fires no row trigger, bumps at once.
func versionTables(tx *gorm.DB, tables ...string) error {
	var stmts []string
	switch tx.Dialector.Name() {
	case "sqlite":
		stmts = append(stmts, `INSERT OR IGNORE INTO data_versions (id, n) VALUES (1, 0)`)
		for _, t := range tables {
			for _, ev := range []string{"INSERT", "UPDATE", "DELETE"} {
				stmts = append(stmts, `CREATE TRIGGER `+dataVersionTrigger(t, "_"+strings.ToLower(ev))+` AFTER `+ev+` ON `+t+
					` BEGIN UPDATE data_versions SET n = n + 1 WHERE id = 1; END`)
			}
		}
	case "postgres":
		stmts = append(stmts, `INSERT INTO data_versions (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
			`CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger AS $$
			 BEGIN
			   IF TG_LEVEL = 'STATEMENT' OR coalesce(current_setting('kaiportal.data_version_bumped', true), '') = '' THEN
			     UPDATE data_versions SET n = n + 1 WHERE id = 1;
			     PERFORM set_config('kaiportal.data_version_bumped', 'yes', true);
			   END IF;
			   RETURN NULL;
			 END; $$ LANGUAGE plpgsql`)
		for _, t := range tables {
			stmts = append(stmts,
				`CREATE CONSTRAINT TRIGGER `+dataVersionTrigger(t, "")+` AFTER INSERT OR UPDATE OR DELETE ON `+t+
					` DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version()`,
				`CREATE TRIGGER `+dataVersionTrigger(t, "_truncate")+` AFTER TRUNCATE ON `+t+
					` FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()`)
		}
	default:
		return fmt.Errorf("store: data version on %s is not supported", tx.Dialector.Name())
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

// unversionTables drops the triggers versionTables created on the tables.
func unversionTables(tx *gorm.DB, tables ...string) error {
	var stmts []string
	for _, t := range tables {
		switch tx.Dialector.Name() {
		case "sqlite":
			for _, ev := range []string{"_insert", "_update", "_delete"} {
				stmts = append(stmts, `DROP TRIGGER IF EXISTS `+dataVersionTrigger(t, ev))
			}
		case "postgres":
			stmts = append(stmts, `DROP TRIGGER IF EXISTS `+dataVersionTrigger(t, "")+` ON `+t,
				`DROP TRIGGER IF EXISTS `+dataVersionTrigger(t, "_truncate")+` ON `+t)
		}
	}
	if tx.Dialector.Name() == "postgres" {
		stmts = append(stmts, `DROP FUNCTION IF EXISTS bump_data_version()`)
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

// VersionTriggers reports, for each table of the database, whether the
// data version triggers are on it (all of them, for each kind of change).
func VersionTriggers(ctx context.Context, db *gorm.DB) (map[string]bool, error) {
	db = db.WithContext(ctx)
	tables, err := db.Migrator().GetTables()
	if err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	var q string
	want := 0
	switch db.Dialector.Name() {
	case "sqlite":
		q, want = `SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\_data\_version\_%' ESCAPE '\'
		  AND sql LIKE '%UPDATE data_versions SET n = n + 1 WHERE id = 1%'`, 3
	case "postgres":
		q, want = `SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		  JOIN pg_proc p ON p.oid = g.tgfoid
		  WHERE c.relnamespace = current_schema()::regnamespace AND p.proname = 'bump_data_version'
		    AND NOT g.tgisinternal`, 2
	}
	var names []string
	if err := db.Raw(q).Scan(&names).Error; err != nil {
		return nil, fmt.Errorf("store: list version triggers: %w", err)
	}
	n := map[string]int{}
	for _, t := range names {
		n[t]++
	}
	out := map[string]bool{}
	for _, t := range tables {
		out[t] = n[t] == want
	}
	return out, nil
}

// VersionReader reads the data version with one prepared statement.
type VersionReader struct{ q *preparedQuery }

// NewVersionReader reads the data version of db.
func NewVersionReader(db *gorm.DB) *VersionReader {
	return &VersionReader{q: newPreparedQuery(db, dataVersionQuery)}
}

// dataVersionQuery reads the version.
const dataVersionQuery = "SELECT n FROM data_versions WHERE id = 1"

// Read returns the current data version.
func (r *VersionReader) Read(ctx context.Context) (int64, error) {
	row, err := r.q.row(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: data version: %w", err)
	}
	var n int64
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("store: data version: %w", err)
	}
	return n, nil
}

// preparedQuery is one statement prepared on the pool at its first use
// (again after a failure) and kept: database/sql prepares it on each
// connection as needed. For the reads of every request, which gorm would
// otherwise build and SQLite prepare anew each time.
type preparedQuery struct {
	db       *gorm.DB
	query    string
	detach   bool       // run without the caller's cancellation (SQLite)
	mu       sync.Mutex // held while preparing
	prepared atomic.Pointer[sql.Stmt]
}

// newPreparedQuery prepares query on db. On SQLite the statement runs
// without the caller's cancellation: SQLite waits for a lock as long as its
// busy timeout whatever the context says (the portal sets it to the request
// deadline), a read by primary key does not run long enough to interrupt,
// and watching a cancellable context costs database/sql and the driver a
// goroutine each per statement.
func newPreparedQuery(db *gorm.DB, query string) *preparedQuery {
	return &preparedQuery{db: db, query: query, detach: db.Dialector.Name() == "sqlite"}
}

// row runs the query with args.
func (q *preparedQuery) row(ctx context.Context, args ...any) (*sql.Row, error) {
	stmt, err := q.stmt(ctx)
	if err != nil {
		return nil, err
	}
	if q.detach {
		ctx = context.WithoutCancel(ctx)
	}
	return stmt.QueryRowContext(ctx, args...), nil
}

func (q *preparedQuery) stmt(ctx context.Context) (*sql.Stmt, error) {
	if s := q.prepared.Load(); s != nil {
		return s, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.prepared.Load(); s != nil {
		return s, nil
	}
	sqlDB, err := q.db.DB()
	if err != nil {
		return nil, err
	}
	s, err := sqlDB.PrepareContext(ctx, q.query)
	if err != nil {
		return nil, err
	}
	q.prepared.Store(s)
	return s, nil
}

// ReadDataVersion reads the data version once, without a prepared statement.
func ReadDataVersion(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	if err := db.WithContext(ctx).Raw(dataVersionQuery).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("store: data version: %w", err)
	}
	return n, nil
}
