package models

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// waitWaiting waits until n transactions wait at g (or fails after a
// generous while: the goroutines only have to reach their BEGIN).
func waitWaiting(t *testing.T, g *writeGate, n int32) {
	t.Helper()
	for i := 0; g.waiting.Load() != n; i++ {
		if i > 10_000 {
			t.Fatalf("%d transactions wait at the gate, want %d", g.waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriteGateOrder: transactions of this process on one SQLite file —
// through one pool or two — take the write lock in the order they asked
// for it, each as soon as the one before ends.
func TestWriteGateOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate.db")
	now := func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }
	first, err := OpenSQLite(path, now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := OpenSQLite(path, now) // another pool on the same file
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []*gorm.DB{first, second} {
		t.Cleanup(func() {
			if s, err := db.DB(); err == nil {
				_ = s.Close()
			}
		})
	}
	if err := first.Exec("CREATE TABLE turns (who TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	g := writeGateFor(path)
	held := first.Begin()
	if held.Error != nil {
		t.Fatal(held.Error)
	}
	var wg sync.WaitGroup
	for i, who := range []string{"B", "C", "D"} {
		db := []*gorm.DB{second, first, second}[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Transaction(func(tx *gorm.DB) error {
				return tx.Exec("INSERT INTO turns (who) VALUES (?)", who).Error
			}); err != nil {
				t.Errorf("%s: %v", who, err)
			}
		}()
		waitWaiting(t, g, int32(i+1))
	}
	if err := held.Exec("INSERT INTO turns (who) VALUES ('A')").Error; err != nil {
		t.Fatal(err)
	}
	if err := held.Commit().Error; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var order []string
	if err := first.Raw("SELECT who FROM turns ORDER BY rowid").Scan(&order).Error; err != nil {
		t.Fatal(err)
	}
	if got := fmtOrder(order); got != "ABCD" {
		t.Errorf("transactions ran in the order %s, want ABCD", got)
	}
}

func fmtOrder(s []string) (out string) {
	for _, x := range s {
		out += x
	}
	return out
}

// TestWriteGateGivesUp: a transaction that cannot have the lock within the
// busy timeout fails as SQLite's own busy timeout does (Unavailable: the
// portal answers 503), and one whose context ends stops waiting; neither
// keeps the gate.
func TestWriteGateGivesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate.db")
	db, err := OpenSQLiteWait(path, time.Now, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			_ = s.Close()
		}
	})
	held := db.Begin()
	if held.Error != nil {
		t.Fatal(held.Error)
	}
	err = db.Transaction(func(*gorm.DB) error { return nil })
	if err == nil || !Unavailable(err) {
		t.Errorf("past the busy timeout: %v, want an unavailable database", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = db.WithContext(ctx).Transaction(func(*gorm.DB) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("with its context ended: %v, want context.Canceled", err)
	}
	if err := held.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Transaction(func(tx *gorm.DB) error { return tx.Exec("SELECT 1").Error }); err != nil {
		t.Errorf("after the holder ended: %v", err)
	}
}
