package models_test

import (
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// t0 is the fixed instant the model tests start from: 2026-11-27 14:00 KST.
var t0 = time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)

func newClock() *testdb.Clock { return testdb.NewClock(t0) }

func ptr[T any](v T) *T { return &v }

// mustOrg creates an organisation.
func mustOrg(t *testing.T, db *gorm.DB, code string) *models.Organisation {
	t.Helper()
	o := &models.Organisation{Code: code, NameKO: code + " 한글", NameEN: code, Kind: models.OrgCompany}
	if err := db.WithContext(t.Context()).Create(o).Error; err != nil {
		t.Fatalf("create organisation %s: %v", code, err)
	}
	return o
}

// mustUser creates a user through UpsertUser, the way sign-in does.
func mustUser(t *testing.T, db *gorm.DB, now time.Time, subject string, role models.Role, orgID *uint) *models.User {
	t.Helper()
	u, err := models.UpsertUser(t.Context(), db, models.Identity{
		Issuer: "https://idp.test", Subject: subject, Email: subject + "@test.invalid",
		Name: "User " + subject, Role: role, OrganisationID: orgID,
	}, now)
	if err != nil {
		t.Fatalf("upsert user %s: %v", subject, err)
	}
	return u
}

// count returns the number of rows of a model's table.
func count(t *testing.T, db *gorm.DB, model any) int64 {
	t.Helper()
	var n int64
	if err := db.WithContext(t.Context()).Model(model).Count(&n).Error; err != nil {
		t.Fatalf("count %T: %v", model, err)
	}
	return n
}

func TestIdentityValidate(t *testing.T) {
	t.Parallel()
	org := uint(7)
	base := models.Identity{Issuer: "https://idp.test", Subject: "sub-1", Email: "a@b.invalid", Name: "A"}
	with := func(f func(*models.Identity)) models.Identity {
		id := base
		f(&id)
		return id
	}
	tests := []struct {
		name      string
		id        models.Identity
		wantErr   bool
		forbidden bool // the error is ErrForbidden
	}{
		{"officer without organisation", with(func(i *models.Identity) { i.Role = models.RoleOfficer }), false, false},
		{"admin", with(func(i *models.Identity) { i.Role = models.RoleAdmin }), false, false},
		{"auditor without organisation", with(func(i *models.Identity) { i.Role = models.RoleAuditor }), false, false},
		{"company with organisation", with(func(i *models.Identity) { i.Role, i.OrganisationID = models.RoleCompany, &org }), false, false},
		{"missing role", with(func(i *models.Identity) { i.Role = models.RoleAnonymous }), true, true},
		{"unknown role", with(func(i *models.Identity) { i.Role = "superuser" }), true, true},
		{"company without organisation", with(func(i *models.Identity) { i.Role = models.RoleCompany }), true, true},
		{"missing issuer", with(func(i *models.Identity) { i.Role, i.Issuer = models.RoleOfficer, "" }), true, false},
		{"missing subject", with(func(i *models.Identity) { i.Role, i.Subject = models.RoleOfficer, "" }), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.id.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, models.ErrForbidden); got != tt.forbidden {
				t.Errorf("errors.Is(%v, ErrForbidden) = %v, want %v", err, got, tt.forbidden)
			}
		})
	}
}

func TestUpsertUser(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		orgA, orgB := mustOrg(t, db, "org-a"), mustOrg(t, db, "org-b")
		id := models.Identity{Issuer: "https://idp.test", Subject: "sub-1", Email: "kim@a.invalid",
			Name: "  김민수  ", Role: models.RoleCompany, OrganisationID: &orgA.ID}

		created, err := models.UpsertUser(ctx, db, id, clock.Now())
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.ID == 0 || created.Name != "김민수" || created.Role != models.RoleCompany ||
			created.Email != "kim@a.invalid" {
			t.Errorf("created = %+v, want a row named 김민수 (trimmed), company, kim@a.invalid", created)
		}
		if created.Organisation == nil || created.Organisation.ID != orgA.ID {
			t.Errorf("created.Organisation = %+v, want org-a preloaded", created.Organisation)
		}
		if created.LastLoginAt == nil || !created.LastLoginAt.Equal(t0) {
			t.Errorf("created.LastLoginAt = %v, want %v", created.LastLoginAt, t0)
		}

		// The same person signs in again later with a new name, role and organisation.
		clock.Advance(48 * time.Hour)
		id.Name, id.Role, id.OrganisationID, id.Email = "김민수 책임", models.RoleAuditor, &orgB.ID, "kim@b.invalid"
		updated, err := models.UpsertUser(ctx, db, id, clock.Now())
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if updated.ID != created.ID {
			t.Errorf("updated.ID = %d, want the same row %d", updated.ID, created.ID)
		}
		if updated.Name != "김민수 책임" || updated.Role != models.RoleAuditor || updated.Email != "kim@b.invalid" {
			t.Errorf("updated = %+v, want the new name, role and email", updated)
		}
		if updated.OrganisationID == nil || *updated.OrganisationID != orgB.ID ||
			updated.Organisation == nil || updated.Organisation.Code != "org-b" {
			t.Errorf("updated organisation = %v / %+v, want org-b", updated.OrganisationID, updated.Organisation)
		}
		if updated.LastLoginAt == nil || !updated.LastLoginAt.Equal(clock.Now()) {
			t.Errorf("updated.LastLoginAt = %v, want %v", updated.LastLoginAt, clock.Now())
		}
		if !updated.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("updated.CreatedAt = %v, want it kept at %v", updated.CreatedAt, created.CreatedAt)
		}
		if !updated.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("updated.UpdatedAt = %v, want %v", updated.UpdatedAt, clock.Now())
		}

		// Moving to a ministry role clears the organisation.
		id.Role, id.OrganisationID, id.Name = models.RoleOfficer, nil, ""
		officer, err := models.UpsertUser(ctx, db, id, clock.Now())
		if err != nil {
			t.Fatalf("update to officer: %v", err)
		}
		if officer.ID != created.ID || officer.OrganisationID != nil || officer.Organisation != nil {
			t.Errorf("officer = %+v, want the same row without organisation", officer)
		}
		if officer.Name != "kim@b.invalid" {
			t.Errorf("officer.Name = %q, want the email when the name is blank", officer.Name)
		}
		if n := count(t, db, &models.User{}); n != 1 {
			t.Errorf("users = %d, want 1", n)
		}

		// The same subject at another issuer is another person.
		other := id
		other.Issuer = "https://other-idp.test"
		o, err := models.UpsertUser(ctx, db, other, clock.Now())
		if err != nil {
			t.Fatalf("other issuer: %v", err)
		}
		if o.ID == created.ID {
			t.Errorf("a user of another issuer got the same row %d", o.ID)
		}

		// An identity that cannot be a user writes nothing.
		bad := models.Identity{Issuer: "https://idp.test", Subject: "sub-2", Role: models.RoleCompany}
		if _, err := models.UpsertUser(ctx, db, bad, clock.Now()); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("company without organisation: err = %v, want ErrForbidden", err)
		}
		if n := count(t, db, &models.User{}); n != 2 {
			t.Errorf("users = %d, want 2", n)
		}

		got, err := models.GetUser(ctx, db, created.ID)
		if err != nil || got.Role != models.RoleOfficer {
			t.Errorf("GetUser = %+v, %v; want the officer", got, err)
		}
		if _, err := models.GetUser(ctx, db, 999999); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("GetUser(missing) err = %v, want ErrNotFound", err)
		}
	})
}

func TestMaySeeOrganisation(t *testing.T) {
	t.Parallel()
	own, other := uint(1), uint(2)
	tests := []struct {
		name string
		user *models.User
		org  uint
		want bool
	}{
		{"nil user", nil, own, false},
		{"officer, any organisation", &models.User{Role: models.RoleOfficer}, other, true},
		{"admin, any organisation", &models.User{Role: models.RoleAdmin}, other, true},
		{"auditor, any organisation", &models.User{Role: models.RoleAuditor}, other, true},
		{"officer with an organisation, another one", &models.User{Role: models.RoleOfficer, OrganisationID: &own}, other, true},
		{"company, own organisation", &models.User{Role: models.RoleCompany, OrganisationID: ptr(own)}, own, true},
		{"company, another organisation", &models.User{Role: models.RoleCompany, OrganisationID: ptr(own)}, other, false},
		{"company without organisation", &models.User{Role: models.RoleCompany}, own, false},
		{"company without organisation, id 0", &models.User{Role: models.RoleCompany}, 0, false},
		{"no role", &models.User{OrganisationID: ptr(own)}, own, false},
		{"unknown role", &models.User{Role: "superuser", OrganisationID: ptr(own)}, own, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.MaySeeOrganisation(tt.org); got != tt.want {
				t.Errorf("MaySeeOrganisation(%d) = %v, want %v", tt.org, got, tt.want)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		user *models.User
		want string
	}{
		{"nil", nil, ""},
		{"name", &models.User{Name: "김민수", Email: "kim@a.invalid"}, "김민수"},
		{"email when no name", &models.User{Email: "kim@a.invalid"}, "kim@a.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.DisplayName(); got != tt.want {
				t.Errorf("DisplayName() = %q, want %q", got, tt.want)
			}
		})
	}
}
