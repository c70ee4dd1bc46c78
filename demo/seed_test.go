package demo_test

import (
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

func TestOrganisations(t *testing.T) {
	t.Parallel()
	if len(demo.Organisations) != 15 {
		t.Errorf("Organisations = %d, want the 15 applicants", len(demo.Organisations))
	}
	var selected []string
	codes := map[string]bool{}
	for _, d := range demo.Organisations {
		if d.Selected {
			selected = append(selected, d.NameEN)
		}
		if codes[d.Code] || d.Code == demo.MinistryCode {
			t.Errorf("code %q is used twice", d.Code)
		}
		codes[d.Code] = true
		if d.Kind == models.OrgMinistry || d.NameKO == "" || d.NameEN == "" {
			t.Errorf("applicant %+v: want Korean and English names, not the ministry", d)
		}
	}
	slices.Sort(selected)
	want := []string{"LG AI Research", "NC AI", "Naver Cloud", "SK Telecom", "Upstage"}
	if !slices.Equal(selected, want) {
		t.Errorf("selected = %q, want %q", selected, want)
	}
}

// seedCounts is what a seed run leaves in the tables it writes.
type seedCounts struct{ orgs, users, programmes, calls, audit int64 }

func countSeed(t *testing.T, db *gorm.DB) seedCounts {
	t.Helper()
	return seedCounts{
		orgs:       count(t, db, &models.Organisation{}),
		users:      count(t, db, &models.User{}),
		programmes: count(t, db, &models.Programme{}),
		calls:      count(t, db, &models.Call{}),
		audit:      count(t, db, &models.AuditEntry{}),
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatalf("Seed: %v", err)
		}

		orgs, err := models.ListOrganisations(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 16 {
			t.Errorf("organisations = %d, want 15 applicants and the ministry", len(orgs))
		}
		byCode := map[string]models.Organisation{}
		for _, o := range orgs {
			byCode[o.Code] = o
		}
		if m, ok := byCode[demo.MinistryCode]; !ok || m.Kind != models.OrgMinistry {
			t.Errorf("ministry = %+v, want kind %q under code %q", m, models.OrgMinistry, demo.MinistryCode)
		}
		for _, d := range demo.Organisations {
			o, ok := byCode[d.Code]
			if !ok || o.NameKO != d.NameKO || o.NameEN != d.NameEN || o.Kind != d.Kind {
				t.Errorf("organisation %s = %+v, want %+v", d.Code, o, d)
			}
		}
		selected := map[string]bool{}
		for _, d := range demo.Organisations {
			selected[d.Code] = d.Selected
		}

		users, err := models.ListDemoUsers(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 6 {
			t.Errorf("demo users = %d, want 6", len(users))
		}
		roles := map[models.Role]int{}
		var companySelected, companyNotSelected int
		for _, u := range users {
			roles[u.Role]++
			if u.Issuer != models.DemoIssuer || u.Name == "" || u.Email == "" {
				t.Errorf("demo user %+v: want the demo issuer, a name and an email", u)
			}
			id := models.Identity{Issuer: u.Issuer, Subject: u.Subject, Role: u.Role, OrganisationID: u.OrganisationID}
			if err := id.Validate(); err != nil {
				t.Errorf("demo user %s could not sign in: %v", u.Subject, err)
			}
			switch {
			case u.Role == models.RoleCompany:
				if u.OrganisationID == nil || u.Organisation == nil || u.Organisation.Kind == models.OrgMinistry {
					t.Errorf("company user %s has organisation %+v, want an applicant", u.Subject, u.Organisation)
					continue
				}
				if selected[u.Organisation.Code] {
					companySelected++
				} else {
					companyNotSelected++
				}
			case u.Role == models.RoleReviewer:
				if u.OrganisationID != nil {
					t.Errorf("external evaluator %s has organisation %v, want none", u.Subject, *u.OrganisationID)
				}
			case u.Role.IsMinistry():
				if u.Organisation == nil || u.Organisation.Code != demo.MinistryCode {
					t.Errorf("ministry user %s has organisation %+v, want the ministry", u.Subject, u.Organisation)
				}
			}
		}
		for role, want := range map[models.Role]int{models.RoleOfficer: 1, models.RoleAdmin: 1, models.RoleAuditor: 1, models.RoleCompany: 2, models.RoleReviewer: 1} {
			if roles[role] < want {
				t.Errorf("demo users with role %s = %d, want at least %d", role, roles[role], want)
			}
		}
		if companySelected < 1 || companyNotSelected < 1 {
			t.Errorf("company users: %d of selected teams, %d of others; want one of each", companySelected, companyNotSelected)
		}

		prog, err := models.CurrentProgramme(ctx, db)
		if err != nil || prog.Code != "sovereign-ai-2025" {
			t.Errorf("programme = %+v, %v; want sovereign-ai-2025", prog, err)
		}
		calls, err := models.ListCalls(ctx, db)
		if err != nil || len(calls) != 1 {
			t.Fatalf("calls = %d, %v; want 1", len(calls), err)
		}
		c := calls[0]
		if c.Slots != 5 || c.ProgrammeID != prog.ID || c.Programme.Code != prog.Code || !c.OpensAt.Before(c.ClosesAt) {
			t.Errorf("call = %+v, want 5 slots in the programme, opening before it closes", c)
		}
		// 2025-07-21 18:00 KST is 09:00 UTC.
		if want := time.Date(2025, 7, 21, 9, 0, 0, 0, time.UTC); !c.ClosesAt.Equal(want) || c.IsOpen(clock.Now()) {
			t.Errorf("call closes at %v (open now: %v), want %v and closed", c.ClosesAt, c.IsOpen(clock.Now()), want)
		}

		audit, total, err := models.ListAudit(ctx, db, models.AuditFilter{Action: models.ActionSeed})
		if err != nil || total != 1 || audit[0].ObjectID != prog.Code || audit[0].ActorID != nil {
			t.Errorf("seed audit = %+v (%d, %v), want one system row for the programme", audit, total, err)
		}
		if check := verify(t, db); !check.OK() || check.Rows != 1 {
			t.Errorf("chain after seeding = %+v, want a whole chain of 1", check)
		}

		// A second run, later, changes nothing and records nothing.
		before := countSeed(t, db)
		clock.Advance(24 * time.Hour)
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatalf("second Seed: %v", err)
		}
		if after := countSeed(t, db); after != before {
			t.Errorf("counts after the second run = %+v, want %+v", after, before)
		}
		again, err := models.ListDemoUsers(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range again {
			if u.LastLoginAt == nil || !u.LastLoginAt.Equal(t0) || !u.UpdatedAt.Equal(users[i].UpdatedAt) {
				t.Errorf("user %s was rewritten by the second run: last login %v, updated %v", u.Subject, u.LastLoginAt, u.UpdatedAt)
			}
		}
		if check := verify(t, db); !check.OK() || check.Rows != 1 {
			t.Errorf("chain after the second run = %+v, want a whole chain of 1", check)
		}
	})
}

// TestSeedKeepsExistingOrganisations seeds a database where an
// organisation was already registered by hand.
func TestSeedKeepsExistingOrganisations(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		pre := mustOrg(t, db, "upstage")
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatalf("Seed: %v", err)
		}
		if n := count(t, db, &models.Organisation{}); n != 16 {
			t.Errorf("organisations = %d, want 16", n)
		}
		users, err := models.ListDemoUsers(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Subject == "demo-company-upstage" && (u.OrganisationID == nil || *u.OrganisationID != pre.ID) {
				t.Errorf("Upstage's demo user belongs to %v, want the existing organisation %d", u.OrganisationID, pre.ID)
			}
		}
	})
}
