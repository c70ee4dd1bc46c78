package demo_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestSeedConsortia: the selected teams have members of several roles with
// shares within 100 %, one change request waits for an officer and one
// invitation for the invited company's demo user; a second run changes
// nothing.
func TestSeedConsortia(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedConsortia(ctx, db, clock.Now()); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("before the demo decision: %v, want ErrNotFound", err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := demo.SeedConsortia(ctx, db, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		teams, err := models.SelectedConsortia(ctx, db)
		if err != nil || len(teams) != 5 {
			t.Fatalf("selected consortia: %d, %v; want 5", len(teams), err)
		}
		roles := map[string]bool{}
		for _, a := range teams {
			total := 0
			for _, m := range a.Members {
				total += m.Share
				roles[m.Role] = true
			}
			if total > 100 || total < 90 {
				t.Errorf("%s: shares add up to %d %%", a.LeadOrg.Code, total)
			}
		}
		for _, r := range append([]string{models.MemberLead}, models.MemberChoices...) {
			if !roles[r] {
				t.Errorf("no selected team has a member of role %s", r)
			}
		}
		pending, err := models.PendingConsortiumRequests(ctx, db)
		if err != nil || len(pending) != 1 {
			t.Errorf("pending change requests: %d, %v; want 1", len(pending), err)
		}
		kaist, err := models.GetOrganisationByCode(ctx, db, "kaist")
		if err != nil {
			t.Fatal(err)
		}
		inv, err := models.InvitationsFor(ctx, db, kaist.ID)
		if err != nil || len(inv) != 1 || inv[0].Status != models.RequestInvited || inv[0].Application.LeadOrg.Code != "upstage" {
			t.Errorf("KAIST's invitations: %+v, %v; want Upstage's, waiting", inv, err)
		}
		var approved int64
		if err := db.Model(&models.ConsortiumRequest{}).Where("status = ?", models.RequestApproved).Count(&approved).Error; err != nil || approved != 1 {
			t.Errorf("approved change requests: %d, %v; want 1", approved, err)
		}
		check, err := models.VerifyAuditChain(ctx, db)
		if err != nil || !check.OK() {
			t.Errorf("audit chain: %+v, %v", check, err)
		}
	})
}
