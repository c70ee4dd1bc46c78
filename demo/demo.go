// Package demo loads the portal's demo data: the programme, its 2025 call
// and the story of that call (applications, reviews, the selection of
// 2025-08-04), the K-AI names granted after it, the selected teams'
// simulated GPU clusters, and an additional call whose appeal window is
// open on the day the demo is loaded. It plays the story through the same
// models functions the portal's users call, each at its instant; the
// rules and the storage stay in models.
package demo

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"kaiportal/models"
)

// seedLockKey serialises demo seeding on PostgreSQL, so that two instances
// starting at once do not both replay the story.
const seedLockKey = 0x4b41_4953_4545_4431 // "KAISEED1"

// lockSeeding takes the seeding lock until tx ends (PostgreSQL; SQLite
// serialises writers itself).
func lockSeeding(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock"+models.SchemaLockKey, seedLockKey).Error; err != nil {
		return fmt.Errorf("store: seed lock: %w", err)
	}
	return nil
}

// demoUserWhere returns the first demo user (by id) for which match holds;
// models.ErrNotFound when none does.
func demoUserWhere(ctx context.Context, db *gorm.DB, what string, match func(*models.User) bool) (*models.User, error) {
	users, err := models.ListDemoUsers(ctx, db)
	if err != nil {
		return nil, err
	}
	for i := range users {
		if match(&users[i]) {
			return &users[i], nil
		}
	}
	return nil, fmt.Errorf("store: demo user %s: %w", what, models.ErrNotFound)
}

// demoOfficer returns the demo officer, who publishes and grants.
func demoOfficer(ctx context.Context, db *gorm.DB) (*models.User, error) {
	return demoUserWhere(ctx, db, "demo-officer", func(u *models.User) bool { return u.Subject == "demo-officer" })
}
