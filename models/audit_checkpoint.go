package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AuditCheckpoint records how far the audit chain has been verified, so
// that the pages verify only the rows added since. There is one row (ID 1).
// It is a convenience, not a proof: rows before LastID are not read again
// by the pages, so a change to them is found by the walk of the whole
// chain ('portal audit-verify', or the audit page's "verify the whole
// chain"), whose finding the checkpoint keeps.
type AuditCheckpoint struct {
	ID         uint      `gorm:"primaryKey;autoIncrement:false"`
	LastID     uint      `gorm:"not null"` // the newest row verified; 0: none
	LastHash   string    `gorm:"size:64;not null"`
	RowCount   int64     `gorm:"not null"` // rows of the chain up to LastID
	VerifiedAt time.Time // when LastID was verified
	FullAt     *time.Time
	FullLastID uint   `gorm:"not null"` // the newest row the last whole walk reached
	BrokenID   uint   `gorm:"not null"` // where the last whole walk found the chain broken; 0: whole
	BrokenWhy  string `gorm:"type:text;not null"`
}

// auditCheckpointID is the checkpoint's one row.
const auditCheckpointID = 1

// CheckAuditChain verifies the audit chain for the pages: the rows added
// since the checkpoint, starting from the checkpoint's row (which must
// still be there with the hash recorded then), or, when full is set, every
// row from the first. A check that verifies moves the checkpoint on; a
// whole walk also records when it ran and what it found, and a break it
// found is reported by every later check until a whole walk finds the
// chain whole again. Several verifiers may run at once: the checkpoint only
// moves forward, and the record of a whole walk only to a later walk, each
// in one statement.
func CheckAuditChain(ctx context.Context, db *gorm.DB, full bool, now time.Time) (AuditCheck, error) {
	now = now.UTC().Truncate(time.Microsecond) // what both databases keep
	var cp AuditCheckpoint
	err := db.WithContext(ctx).Take(&cp, auditCheckpointID).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		cp = AuditCheckpoint{ID: auditCheckpointID, LastHash: genesisHash}
	case err != nil:
		return AuditCheck{}, fmt.Errorf("store: read audit checkpoint: %w", err)
	}
	full = full || cp.LastID == 0 // nothing verified yet: the check walks it all
	if !full && cp.BrokenID != 0 {
		return AuditCheck{Rows: int(cp.RowCount), BrokenID: cp.BrokenID, BrokenWhy: cp.BrokenWhy, LastHash: cp.LastHash,
			CheckedAtID: cp.BrokenID, From: cp.LastID, CheckedAt: now, FullAt: derefTime(cp.FullAt)}, nil
	}

	var w chainWalker
	if full {
		w.start(0, genesisHash)
	} else {
		w.start(cp.LastID, cp.LastHash)
		w.check.Rows = int(cp.RowCount)
	}
	if err := w.walk(ctx, db); err != nil {
		return w.check, fmt.Errorf("store: check audit chain: %w", err)
	}
	check := w.check
	check.From, check.Read, check.Full, check.CheckedAt = w.anchorID, w.read, full, now
	check.FullAt = derefTime(cp.FullAt)
	if full {
		check.FullAt = now
	}

	tx := db.WithContext(ctx)
	if err := ensureAuditCheckpoint(tx); err != nil {
		return check, err
	}
	if check.OK() && check.CheckedAtID > cp.LastID {
		err := tx.Model(&AuditCheckpoint{}).
			Where("id = ? AND last_id < ?", auditCheckpointID, check.CheckedAtID).
			Updates(map[string]any{"last_id": check.CheckedAtID, "last_hash": check.LastHash,
				"row_count": check.Rows, "verified_at": now}).Error
		if err != nil {
			return check, fmt.Errorf("store: move audit checkpoint: %w", err)
		}
	}
	if full {
		err := tx.Model(&AuditCheckpoint{}).
			Where("id = ? AND (full_at IS NULL OR full_at <= ?)", auditCheckpointID, now).
			Updates(map[string]any{"full_at": now, "full_last_id": check.CheckedAtID,
				"broken_id": check.BrokenID, "broken_why": check.BrokenWhy}).Error
		if err != nil {
			return check, fmt.Errorf("store: record audit chain walk: %w", err)
		}
	}
	return check, nil
}

// ensureAuditCheckpoint creates the checkpoint's row if it is missing
// (the migration creates it; a database emptied by hand may lack it).
func ensureAuditCheckpoint(tx *gorm.DB) error {
	err := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&AuditCheckpoint{ID: auditCheckpointID, LastHash: genesisHash}).Error
	if err != nil {
		return fmt.Errorf("store: create audit checkpoint: %w", err)
	}
	return nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
