package models_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

func TestEffectiveRole(t *testing.T) {
	t.Parallel()
	const none = models.Role("")
	cases := []struct {
		provider, override, want models.Role
	}{
		{models.RoleOfficer, none, models.RoleOfficer},
		{models.RoleOfficer, models.RoleAuditor, models.RoleAuditor},
		{models.RoleAuditor, models.RoleAdmin, models.RoleAdmin},
		{models.RoleAdmin, models.RoleOfficer, models.RoleOfficer},
		// The external evaluator's role can be set, or lifted, like the ministry's and auditors'.
		{models.RoleOfficer, models.RoleReviewer, models.RoleReviewer},
		{models.RoleReviewer, models.RoleAuditor, models.RoleAuditor},
		{models.RoleCompany, models.RoleReviewer, models.RoleCompany},
		// A company user's role is the provider's: it binds them to their organisation.
		{models.RoleCompany, models.RoleOfficer, models.RoleCompany},
		{models.RoleOfficer, models.RoleCompany, models.RoleOfficer},
		// No role at the provider: no override gives one.
		{none, models.RoleAdmin, none},
		{models.RoleOfficer, "superuser", models.RoleOfficer},
	}
	for _, tc := range cases {
		if got := models.EffectiveRole(tc.provider, tc.override); got != tc.want {
			t.Errorf("EffectiveRole(%q, %q) = %q, want %q", tc.provider, tc.override, got, tc.want)
		}
	}
}

func TestResolveRole(t *testing.T) {
	t.Parallel()
	roleMap := map[string]string{"kai-officers": "officer", "kai-companies": "company", "kai-panel": "reviewer"}
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		for _, o := range []models.Organisation{
			{Code: "acme", NameKO: "애크미", NameEN: "Acme", Kind: models.OrgCompany},
			{Code: "kaist", NameKO: "카이스트", NameEN: "KAIST", Kind: models.OrgUniversity},
			{Code: "msit", NameKO: "과기정통부", NameEN: "MSIT", Kind: models.OrgMinistry},
			{Code: "nipa", NameKO: "진흥원", NameEN: "NIPA", Kind: "agency"},
		} {
			if err := db.Create(&o).Error; err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			groups  []string
			org     string
			role    models.Role
			orgCode string // "" for none
			err     error
		}{
			{[]string{"kai-officers"}, "", models.RoleOfficer, "", nil},
			{[]string{"kai-officers"}, "msit", models.RoleOfficer, "", nil}, // only company users carry an organisation
			{[]string{"staff"}, "acme", "", "", models.ErrNoRole},
			{nil, "", "", "", models.ErrNoRole},
			{[]string{"kai-companies"}, "acme", models.RoleCompany, "acme", nil},
			{[]string{"kai-companies"}, "kaist", models.RoleCompany, "kaist", nil},
			{[]string{"kai-companies"}, "msit", models.RoleCompany, "msit", models.ErrNotApplicant},
			{[]string{"kai-companies"}, "nipa", models.RoleCompany, "nipa", models.ErrNotApplicant},
			{[]string{"kai-companies"}, "unknown", models.RoleCompany, "", models.ErrNotApplicant},
			{[]string{"kai-companies"}, "", models.RoleCompany, "", models.ErrNotApplicant},
			// An external evaluator acts for no organisation, whatever the claim says.
			{[]string{"kai-panel"}, "", models.RoleReviewer, "", nil},
			{[]string{"kai-panel"}, "acme", models.RoleReviewer, "", nil},
			{[]string{"kai-panel", "kai-companies"}, "acme", models.RoleCompany, "acme", nil},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%s", tc.groups, tc.org), func(t *testing.T) {
				role, org, err := models.ResolveRole(ctx, db, tc.groups, roleMap, tc.org)
				if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				if tc.err != nil && !errors.Is(err, models.ErrForbidden) {
					t.Errorf("err %v does not wrap ErrForbidden", err)
				}
				code := ""
				if org != nil {
					code = org.Code
				}
				if role != tc.role || code != tc.orgCode {
					t.Errorf("role %q organisation %q, want %q %q", role, code, tc.role, tc.orgCode)
				}
			})
		}
	})
}

// TestRoleOverrideOutlivesSignIn: a role set in the portal stays through
// the next sign-in, which still records the provider's role.
func TestRoleOverrideOutlivesSignIn(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		admin := mustUser(t, db, t0, "admin-1", models.RoleAdmin, nil)
		u := mustUser(t, db, t0, "officer-1", models.RoleOfficer, nil)
		if _, err := models.SetUserRole(ctx, db, u.ID, models.RoleAuditor, admin, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := models.SetUserRole(ctx, db, admin.ID, models.RoleOfficer, admin, t0); !errors.Is(err, models.ErrOwnRole) {
			t.Errorf("own role: err %v, want ErrOwnRole", err)
		}
		again := mustUser(t, db, t0, "officer-1", models.RoleOfficer, nil)
		if again.Role != models.RoleAuditor || again.ProviderRole != models.RoleOfficer || again.RoleOverride != models.RoleAuditor {
			t.Errorf("after sign-in: role %q provider %q override %q; want auditor, officer, auditor",
				again.Role, again.ProviderRole, again.RoleOverride)
		}
		cleared, err := models.SetUserRole(ctx, db, u.ID, "", admin, t0)
		if err != nil || cleared.Role != models.RoleOfficer || cleared.RoleOverride != "" {
			t.Errorf("cleared: %+v, %v; want the provider's officer", cleared, err)
		}
		if n := countAudit(t, db, models.ActionUserRoleSet, fmt.Sprint(u.ID)); n != 2 {
			t.Errorf("%d %s audit rows, want 2", n, models.ActionUserRoleSet)
		}
		org := mustOrg(t, db, "acme")
		company := mustUser(t, db, t0, "company-1", models.RoleCompany, &org.ID)
		if _, err := models.SetUserRole(ctx, db, company.ID, models.RoleOfficer, admin, t0); !errors.Is(err, models.ErrCompanyRole) {
			t.Errorf("company user: err %v, want ErrCompanyRole", err)
		}
	})
}

// TestConfirmRoleLocksSessionBeforeAudit: on PostgreSQL the re-check of a
// user's role writes the session's row before its audit row, as ending the
// user's sessions does, so the two cannot deadlock.
func TestConfirmRoleLocksSessionBeforeAudit(t *testing.T) {
	t.Parallel()
	clock := testdb.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := testdb.Open(t, testdb.Postgres, clock.Now)
	ctx := t.Context()
	u, err := models.UpsertUser(ctx, db, models.Identity{Issuer: "https://idp.example", Subject: "officer-1",
		Name: "Kim Officer", Role: models.RoleOfficer}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := models.CreateSession(ctx, db, u.ID, "", clock.Now(), models.SessionPolicy{Idle: time.Hour, MaxAge: 8 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	err = holdRowThenStep(t, db, "SELECT 1 FROM sessions WHERE id = ?", []any{s.ID}, auditLock, func() error {
		_, err := models.ConfirmRole(ctx, db, s.ID, u.ID, models.RoleAuditor, nil, "token", clock.Now())
		return err
	})
	if err != nil {
		t.Fatalf("re-check once the session is free: %v", err)
	}
	if got, err := models.GetUser(ctx, db, u.ID); err != nil || got.Role != models.RoleAuditor {
		t.Errorf("role after the re-check = %v (%v), want auditor", got, err)
	}
}
