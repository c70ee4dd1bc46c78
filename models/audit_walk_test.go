package models_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// TestAuditChainSegmentsNameFirstBroken: a walk split into segments read at
// once names the same first broken row, with the same count of rows and
// last good hash, as a walk of one segment, wherever the rows that do not
// verify fall: inside a segment, at either end of one, or in several.
func TestAuditChainSegmentsNameFirstBroken(t *testing.T) {
	const (
		altered = "altered"
		link    = "previous-hash link"
	)
	type tamper func(t *testing.T, db *gorm.DB, rows []models.AuditEntry)
	alter := func(is ...int) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			for _, i := range is {
				update(t, db, rows[i].ID, "summary", fmt.Sprintf("row %d rewritten", i+1))
			}
		}
	}
	remove := func(i int) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			if err := db.Delete(&models.AuditEntry{}, rows[i].ID).Error; err != nil {
				t.Fatalf("tamper: %v", err)
			}
		}
	}
	rehash := func(i int) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			e := rows[i]
			e.Summary = "rewritten and re-hashed"
			e.Hash = chainHash(e)
			update(t, db, e.ID, "summary", e.Summary)
			update(t, db, e.ID, "hash", e.Hash)
		}
	}
	tests := []struct {
		name   string
		tamper tamper
		broken int // original row reported broken (0-based); -1: none
		why    string
	}{
		{"whole chain", func(*testing.T, *gorm.DB, []models.AuditEntry) {}, -1, ""},
		{"middle row altered", alter(5), 5, altered},
		{"first row altered", alter(0), 0, altered},
		{"last row altered", alter(11), 11, altered},
		{"rows 3 and 4 altered", alter(3, 2), 2, altered},
		{"a late row and a middle row altered: the middle one is named", alter(9, 5), 5, altered},
		{"an early, a middle and a late row altered", alter(10, 6, 1), 1, altered},
		{"middle row removed: the next row's link breaks", remove(5), 6, link},
		{"third row removed", remove(2), 3, link},
		{"middle row altered and re-hashed: the next row's link breaks", rehash(6), 7, link},
		{"middle row re-linked and altered: the link is named", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			update(t, db, rows[8].ID, "prev_hash", genesis)
		}, 8, link},
		{"a row altered before a broken link", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			remove(9)(t, db, rows)
			alter(4)(t, db, rows)
		}, 4, altered},
	}
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		dropAuditTriggers(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				emptyAudit(t, db)
				clock.Set(t0)
				appendAudit(t, db, clock, 12)
				rows := auditRows(t, db)
				tt.tamper(t, db, rows)
				after := auditRows(t, db)

				want := models.AuditCheck{Rows: len(after), CheckedAtID: after[len(after)-1].ID, LastHash: after[len(after)-1].Hash}
				if tt.broken >= 0 {
					pos := -1
					for i, r := range after {
						if r.ID == rows[tt.broken].ID {
							pos = i
						}
					}
					want = models.AuditCheck{Rows: pos + 1, BrokenID: after[pos].ID, CheckedAtID: after[pos].ID, LastHash: genesis}
					if pos > 0 {
						want.LastHash = after[pos-1].Hash
					}
				}
				// 1 segment; segments of 3 or 4 rows; a segment per row.
				for _, segments := range []int{1, 3, 4, len(after) + 1} {
					models.SetAuditWalkSegments(t, segments)
					check := verify(t, db)
					if check.Rows != want.Rows || check.BrokenID != want.BrokenID || check.CheckedAtID != want.CheckedAtID ||
						check.LastHash != want.LastHash || !strings.Contains(check.BrokenWhy, tt.why) {
						t.Errorf("%d segments: check = %+v, want %+v (%q)", segments, check, want, tt.why)
					}
					whole := checkChain(t, db, true, clock.Now())
					if whole.BrokenID != want.BrokenID || whole.Rows != want.Rows || whole.Read != want.Rows {
						t.Errorf("%d segments: whole walk = %+v, want %d rows read, row %d broken", segments, whole, want.Rows, want.BrokenID)
					}
				}
			})
		}
	})
}

// TestCheckAuditChainSegments: the pages' check from the checkpoint, split
// into segments, reads the checkpoint's row and the rows after it, and
// names the first of them that does not verify, or the checkpoint's row.
func TestCheckAuditChainSegments(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *gorm.DB, rows []models.AuditEntry)
		broken int // original row reported broken (0-based); -1: none
		why    string
		read   int
	}{
		{"rows added", func(*testing.T, *gorm.DB, []models.AuditEntry) {}, -1, "", 9},
		{"two rows after the checkpoint altered", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			update(t, db, rows[9].ID, "summary", "nothing happened")
			update(t, db, rows[6].ID, "summary", "nothing happened")
		}, 6, "altered", 4},
		{"the row after the checkpoint removed", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			if err := db.Delete(&models.AuditEntry{}, rows[4].ID).Error; err != nil {
				t.Fatal(err)
			}
		}, 5, "previous-hash link", 2},
		{"checkpoint's row altered", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			update(t, db, rows[3].ID, "summary", "nothing happened")
		}, 3, "verified last time", 1},
		{"checkpoint's row removed", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			if err := db.Delete(&models.AuditEntry{}, rows[3].ID).Error; err != nil {
				t.Fatal(err)
			}
		}, 3, "verified last time", 1},
	}
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		dropAuditTriggers(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				emptyAudit(t, db)
				clock.Set(t0)
				appendAudit(t, db, clock, 4)
				checkChain(t, db, false, clock.Now()) // checkpoint at row 4
				appendAudit(t, db, clock, 8)
				rows := auditRows(t, db)
				tt.tamper(t, db, rows)

				models.SetAuditWalkSegments(t, 3)
				c := checkChain(t, db, false, clock.Now())
				if c.From != rows[3].ID || c.Read != tt.read {
					t.Errorf("check = %+v, want %d rows read from row %d", c, tt.read, rows[3].ID)
				}
				if tt.broken < 0 {
					if !c.OK() || c.Rows != 12 || c.NewRows() != 8 || c.LastHash != rows[11].Hash || c.CheckedAtID != rows[11].ID {
						t.Errorf("check = %+v, want 8 new rows verified, 12 in all", c)
					}
					return
				}
				if c.BrokenID != rows[tt.broken].ID || !strings.Contains(c.BrokenWhy, tt.why) {
					t.Errorf("check = %+v, want row %d broken (%s)", c, rows[tt.broken].ID, tt.why)
				}
				if cp := checkpoint(t, db); cp.LastID != rows[3].ID {
					t.Errorf("checkpoint moved to %d past a broken row", cp.LastID)
				}
			})
		}
	})
}

// emptyAudit removes every audit row and the checkpoint (the triggers
// that forbid it dropped), so that a case starts a new chain.
func emptyAudit(t *testing.T, db *gorm.DB) {
	t.Helper()
	for _, table := range []string{"audit_entries", "audit_checkpoints"} {
		if err := db.Exec("DELETE FROM " + table).Error; err != nil {
			t.Fatalf("empty %s: %v", table, err)
		}
	}
}

// TestAuditChainOddContent: rows whose text holds bytes that a walk reading
// them as C strings or by characters would cut or miscount, or whose
// lengths the SQLite walk's record writes in several bytes or cannot write,
// still verify.
func TestAuditChainOddContent(t *testing.T) {
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		// Lengths that SQLite's char() writes in 1 to 4 bytes, the one it
		// writes for a length it cannot carry (U+FFFD), and such a length.
		summaries := []string{"", "한국어 요약 ✓", "a;b:c,d", "50:" + strings.Repeat("x", 5000),
			strings.Repeat("y", 0xFFFD), strings.Repeat("z", 70_000), strings.Repeat("ω", 600_000)}
		if db.Dialector.Name() == "sqlite" { // PostgreSQL text cannot hold NUL
			summaries = append(summaries, "before\x00after")
		}
		for i, s := range summaries {
			err := db.Transaction(func(tx *gorm.DB) error {
				return models.RecordAudit(t.Context(), tx, models.ActorOf(nil), "test.odd", "", strings.Repeat(",", i), s, clock.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Duration(i) * 100 * time.Microsecond)
		}
		for _, segments := range []int{1, 2} {
			models.SetAuditWalkSegments(t, segments)
			if c := verify(t, db); !c.OK() || c.Rows != len(summaries) {
				t.Errorf("%d segments: check = %+v, want %d rows whole", segments, c, len(summaries))
			}
		}
		// And a change that keeps the length is still found.
		dropAuditTriggers(t, db)
		rows := auditRows(t, db)
		update(t, db, rows[1].ID, "summary", strings.Replace(rows[1].Summary, "✓", "✗", 1))
		if c := verify(t, db); c.BrokenID != rows[1].ID {
			t.Errorf("check = %+v, want row %d broken", c, rows[1].ID)
		}
	})
}

// TestAppendSQLiteTime: the walk's reading of a stored SQLite time gives
// what the driver's parsing and RFC 3339 formatting give, for the driver's
// own form and for others.
func TestAppendSQLiteTime(t *testing.T) {
	driver := func(s string) string {
		s = strings.TrimSuffix(s, "Z")
		var parsed time.Time
		for _, layout := range sqlite3.SQLiteTimestampFormats {
			if v, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				parsed = v
				break
			}
		}
		return parsed.UTC().Format(time.RFC3339Nano)
	}
	inputs := []string{
		"2026-11-27 05:00:00+00:00",
		"2026-11-27 05:00:00.001234+00:00",
		"2026-11-27 05:00:00.1+00:00",
		"2026-11-27 05:00:00.100000+00:00",
		"2026-11-27 05:00:00.000000+00:00",
		"2026-11-27 05:00:00.123456789+00:00",
		"2026-11-27 05:00:00.1234567891+00:00",
		"2026-11-27 05:00:00.+00:00",
		"2026-11-27 05:00:00,5+00:00",
		"2026-11-27 14:00:00.5+09:00",
		"2026-11-27T05:00:00.5Z",
		"2026-11-27 05:00:00",
		"2026-11-27",
		"2028-02-29 23:59:59+00:00",
		"2026-02-29 00:00:00+00:00",
		"2026-04-31 00:00:00+00:00",
		"2026-13-01 00:00:00+00:00",
		"2026-00-01 00:00:00+00:00",
		"2026-11-00 00:00:00+00:00",
		"2026-11-27 24:00:00+00:00",
		"2026-11-27 23:60:00+00:00",
		"2026-11-27 23:59:60+00:00",
		"0000-01-01 00:00:00+00:00",
		"2026-11-27 5:00:00+00:00",
		"2026-1x-27 05:00:00+00:00",
		"2026-11-27 05:00:00+00:0",
		"1767225600",
		"",
		"garbage that is long enough to pass",
	}
	for _, in := range inputs {
		got := string(models.AppendSQLiteTime([]byte("prefix "), []byte(in)))
		if want := "prefix " + driver(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	// Every time the driver writes, in UTC.
	for _, ns := range []int64{0, 1, 10, 1000, 1_000_000, 123_456_789, 999_999_999, 500_000_000} {
		tm := time.Date(2026, 12, 31, 23, 59, 59, int(ns), time.UTC)
		in := tm.Format(sqlite3.SQLiteTimestampFormats[0])
		if got, want := string(models.AppendSQLiteTime(nil, []byte(in))), tm.Format(time.RFC3339Nano); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
