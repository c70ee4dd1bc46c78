package models_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func checkChain(t *testing.T, db *gorm.DB, full bool, now time.Time) models.AuditCheck {
	t.Helper()
	check, err := models.CheckAuditChain(t.Context(), db, full, now)
	if err != nil {
		t.Fatalf("CheckAuditChain: %v", err)
	}
	return check
}

func checkpoint(t *testing.T, db *gorm.DB) models.AuditCheckpoint {
	t.Helper()
	var cp models.AuditCheckpoint
	if err := db.Take(&cp, 1).Error; err != nil {
		t.Fatalf("read checkpoint: %v", err)
	}
	return cp
}

// TestCheckAuditChainIncremental: the first check walks the whole chain;
// later checks read only the checkpoint's row and the rows added since.
func TestCheckAuditChainIncremental(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		if c := checkChain(t, db, false, clock.Now()); !c.OK() || c.Rows != 0 || c.Read != 0 || c.LastHash != genesis {
			t.Errorf("empty trail: %+v, want whole, nothing read", c)
		}
		appendAudit(t, db, clock, 5)
		rows := auditRows(t, db)
		first := checkChain(t, db, false, clock.Now())
		if !first.OK() || !first.Full || first.Rows != 5 || first.Read != 5 || first.LastHash != rows[4].Hash || !first.FullAt.Equal(clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("first check = %+v, want the whole chain of 5 walked now", first)
		}
		if cp := checkpoint(t, db); cp.LastID != rows[4].ID || cp.LastHash != rows[4].Hash || cp.RowCount != 5 || cp.FullLastID != rows[4].ID {
			t.Errorf("checkpoint = %+v, want row %d", cp, rows[4].ID)
		}

		clock.Advance(time.Minute)
		appendAudit(t, db, clock, 3)
		rows = auditRows(t, db)
		next := checkChain(t, db, false, clock.Now())
		if !next.OK() || next.Full || next.From != rows[4].ID || next.Read != 4 || next.NewRows() != 3 || next.Rows != 8 ||
			next.LastHash != rows[7].Hash || !next.FullAt.Equal(t0.Add(5*(time.Second+1234567*time.Nanosecond)).Truncate(time.Microsecond)) {
			t.Fatalf("second check = %+v, want 3 new rows after %d read with it, 8 in all", next, rows[4].ID)
		}
		again := checkChain(t, db, false, clock.Now())
		if !again.OK() || again.Read != 1 || again.NewRows() != 0 || again.Rows != 8 || again.From != rows[7].ID {
			t.Errorf("check without new rows = %+v, want only the checkpoint's row read", again)
		}
		whole := checkChain(t, db, true, clock.Now())
		if !whole.OK() || !whole.Full || whole.Read != 8 || whole.Rows != 8 {
			t.Errorf("whole walk = %+v, want 8 rows read", whole)
		}
	})
}

// TestCheckAuditChainTamper: a row changed after the checkpoint is found by
// the next check; one changed before it is not read by the pages' check but
// is found by the whole walk, whose finding later checks keep; the
// checkpoint's own row changed or removed is found by the next check.
func TestCheckAuditChainTamper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tamper     func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint // returns the row to be reported
		seenByNext bool
		why        string
		wholeNext  bool // the whole walk reports the row after (the changed one verifies by itself)
	}{
		{"row after the checkpoint altered", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			update(t, db, rows[6].ID, "summary", "nothing happened")
			return rows[6].ID
		}, true, "altered", false},
		{"row after the checkpoint removed", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			if err := db.Delete(&models.AuditEntry{}, rows[6].ID).Error; err != nil {
				t.Fatal(err)
			}
			return rows[7].ID
		}, true, "previous-hash link", false},
		{"checkpoint's row altered", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			update(t, db, rows[4].ID, "actor", "someone else (admin)")
			return rows[4].ID
		}, true, "verified last time", false},
		{"checkpoint's row altered and re-hashed", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			e := rows[4]
			e.Summary = "forged"
			e.Hash = chainHash(e)
			update(t, db, e.ID, "summary", e.Summary)
			update(t, db, e.ID, "hash", e.Hash)
			return rows[4].ID
		}, true, "verified last time", true},
		{"checkpoint's row removed", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			if err := db.Delete(&models.AuditEntry{}, rows[4].ID).Error; err != nil {
				t.Fatal(err)
			}
			return rows[4].ID
		}, true, "verified last time", true},
		{"row before the checkpoint altered", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) uint {
			update(t, db, rows[1].ID, "summary", "nothing happened")
			return rows[1].ID
		}, false, "altered", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				clock.Set(t0)
				appendAudit(t, db, clock, 5)
				checkChain(t, db, false, clock.Now()) // checkpoint at row 5
				appendAudit(t, db, clock, 3)
				rows := auditRows(t, db)
				dropAuditTriggers(t, db)
				broken := tt.tamper(t, db, rows)

				next := checkChain(t, db, false, clock.Now())
				if tt.seenByNext {
					if next.OK() || next.BrokenID != broken || !strings.Contains(next.BrokenWhy, tt.why) {
						t.Fatalf("next check = %+v, want row %d broken (%s)", next, broken, tt.why)
					}
					if cp := checkpoint(t, db); cp.LastID != rows[4].ID {
						t.Errorf("checkpoint moved to %d past a broken row", cp.LastID)
					}
				} else if !next.OK() || next.Read != 4 {
					t.Fatalf("next check = %+v, want the rows after the checkpoint read and whole", next)
				}

				clock.Advance(time.Hour)
				if tt.wholeNext {
					broken = rows[5].ID
				}
				whole := checkChain(t, db, true, clock.Now())
				if whole.OK() || whole.BrokenID != broken {
					t.Fatalf("whole walk = %+v, want row %d broken", whole, broken)
				}
				later := checkChain(t, db, false, clock.Now())
				if later.OK() || later.BrokenID != broken || !later.FullAt.Equal(clock.Now().Truncate(time.Microsecond)) {
					t.Errorf("check after the whole walk = %+v, want its finding (row %d) kept", later, broken)
				}
			})
		})
	}
}

func update(t *testing.T, db *gorm.DB, id uint, col string, val any) {
	t.Helper()
	if err := db.Model(&models.AuditEntry{}).Where("id = ?", id).Update(col, val).Error; err != nil {
		t.Fatalf("tamper %s: %v", col, err)
	}
}

// TestCheckAuditChainConcurrent: verifiers running beside appenders never
// report a whole chain broken, and the checkpoint only moves forward to a
// row with its own hash and position.
func TestCheckAuditChainConcurrent(t *testing.T) {
	t.Parallel()
	const workers, rounds = 4, 10
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds*2)
		start := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range rounds {
					err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
						return models.RecordAudit(ctx, tx, models.ActorOf(nil), "test.concurrent", "writer",
							fmt.Sprint(w), fmt.Sprintf("writer %d entry %d", w, i), clock.Now())
					})
					if err != nil {
						errs <- err
						continue
					}
					check, err := models.CheckAuditChain(ctx, db, false, clock.Now())
					switch {
					case err != nil:
						errs <- err
					case !check.OK():
						errs <- fmt.Errorf("worker %d: chain reported broken: %+v", w, check)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		final := checkChain(t, db, false, clock.Now())
		rows := auditRows(t, db)
		last := rows[len(rows)-1]
		cp := checkpoint(t, db)
		if !final.OK() || cp.LastID != last.ID || cp.LastHash != last.Hash || cp.RowCount != workers*rounds {
			t.Errorf("checkpoint = %+v after %+v, want row %d, its hash, %d rows", cp, final, last.ID, workers*rounds)
		}
	})
}
