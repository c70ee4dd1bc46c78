package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"kaiportal/models"
)

// TestSeedDemoCommandLeavesAnOpenAppealWindow: `portal seed-demo` loads,
// besides the 2025 story, a decision whose appeal window is open on the day
// it runs (the dates themselves are tested with a fixed clock in models).
func TestSeedDemoCommandLeavesAnOpenAppealWindow(t *testing.T) {
	env := devEnv(t)
	ctx := context.Background()
	if err := run(ctx, []string{"seed-demo"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatalf("seed-demo: %v", err)
	}
	now := time.Now()
	db, err := models.OpenSQLite(filepath.Join(env["PORTAL_DATA_DIR"], "portal.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	ds, err := models.ListDecisions(ctx, db)
	if err != nil || len(ds) != 3 {
		t.Fatalf("decisions = %d, %v; want the 2025 selection, the additional call's and the first stage's", len(ds), err)
	}
	open := 0
	for i := range ds {
		if ds[i].Kind != models.DecisionSelection {
			continue // the stage's window may still be open early in a month (see demo.SeedStages)
		}
		w, err := models.DecisionWindow(ctx, db, &ds[i], now)
		if err != nil {
			t.Fatal(err)
		}
		if w.IsOpen(now) {
			open++
		}
	}
	if open != 1 {
		t.Errorf("%d decisions with an open appeal window at %s, want 1", open, now.In(models.KST))
	}

	// The story left its notices in the demo users' inboxes, and the
	// sweep at the load recorded what was due then: a second sweep at
	// that instant tells no one anything new.
	for _, subject := range []string{"demo-officer", "demo-company-upstage", "demo-company-kaist"} {
		var u models.User
		if err := db.Where("issuer = ? AND subject = ?", models.DemoIssuer, subject).First(&u).Error; err != nil {
			t.Fatal(err)
		}
		ms, err := models.ListInbox(ctx, db, u.ID, 500)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[models.NotificationKind]int{}
		for _, m := range ms {
			kinds[m.Kind]++
		}
		if len(ms) == 0 {
			t.Errorf("%s has an empty inbox", subject)
		}
		if subject != "demo-officer" && kinds[models.NotifyDecisionPublished] < 2 {
			t.Errorf("%s: %d decisions in the inbox, want the 2025 selection's and the additional call's: %v", subject, kinds[models.NotifyDecisionPublished], kinds)
		}
	}
	var before, after int64
	db.Model(&models.InboxMessage{}).Count(&before)
	if err := models.SweepNotifications(ctx, db, now, models.DefaultNotifySettings()); err != nil {
		t.Fatal(err)
	}
	db.Model(&models.InboxMessage{}).Count(&after)
	if after != before {
		t.Errorf("a second sweep recorded %d notices", after-before)
	}
}
