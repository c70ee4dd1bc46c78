package models_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", models.ErrNotFound, false},
		{"a conflict", fmt.Errorf("store: %w", models.ErrConflict), false},
		{"duplicate key", gorm.ErrDuplicatedKey, false},
		{"client went away", context.Canceled, false},
		{"deadline", fmt.Errorf("store: load: %w", context.DeadlineExceeded), true},
		{"bad connection", driver.ErrBadConn, true},
		{"connection done", sql.ErrConnDone, true},
		{"dial refused", fmt.Errorf("store: %w", refused), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"pgx connection closed", pgconn.ErrConnClosed, true},
		{"postgres shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"postgres connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"postgres statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"postgres lock timeout", &pgconn.PgError{Code: "55P03"}, true},
		{"postgres too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"postgres unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"postgres syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"sqlite locked past the busy timeout", sqlite3.Error{Code: sqlite3.ErrBusy}, true},
		{"sqlite disk full", fmt.Errorf("store: %w", sqlite3.Error{Code: sqlite3.ErrFull}), true},
		{"sqlite I/O error", sqlite3.Error{Code: sqlite3.ErrIoErr}, true},
		{"sqlite constraint", sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{"a bug", errors.New("store: no such column: x"), false},
	}
	for _, tc := range cases {
		if got := models.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s (%v): Unavailable = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// A closed pool is an outage on both databases.
func TestUnavailableClosedPool(t *testing.T) {
	t.Parallel()
	testdb.Each(t, testdb.NewClock(t0).Now, func(t *testing.T, db *gorm.DB) {
		if _, err := models.ListCalls(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		models.Close(db)
		_, err := models.ListCalls(t.Context(), db)
		if err == nil || !models.Unavailable(err) {
			t.Errorf("query on a closed pool: %v, Unavailable = %v", err, models.Unavailable(err))
		}
	})
}

// TestOpenSQLiteKeepsThePath: a path with the characters that mean
// something in a SQLite URI (a "#" as in a test's temporary directory
// "Test#01", "?", "%", spaces) opens that file and no other.
func TestOpenSQLiteKeepsThePath(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"runs#2", "what?now", "100%", "two words", "a%23b"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			path := filepath.Join(dir, "portal.db")
			db, err := models.OpenSQLite(path, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			defer models.Close(db)
			if err := db.Exec("CREATE TABLE marker (x INTEGER)").Error; err != nil {
				t.Fatal(err)
			}
			var file string
			if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
				t.Fatal(err)
			}
			if file != path {
				t.Errorf("opened %q, want %q", file, path)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the file at the path given: %v", err)
			}
		})
	}
}
