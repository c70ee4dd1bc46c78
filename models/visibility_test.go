package models_test

import (
	"testing"

	"kaiportal/models"
)

// TestOneVisibilityRule: an application, an appeal and an allocation are
// visible to exactly the users who may see their organisation's data, and
// a list's scope admits the same organisations.
func TestOneVisibilityRule(t *testing.T) {
	t.Parallel()
	own, other := uint(1), uint(2)
	users := map[string]*models.User{
		"nobody":                       nil,
		"officer":                      {Role: models.RoleOfficer},
		"admin":                        {Role: models.RoleAdmin},
		"auditor":                      {Role: models.RoleAuditor},
		"officer with an organisation": {Role: models.RoleOfficer, OrganisationID: ptr(own)},
		"company":                      {Role: models.RoleCompany, OrganisationID: ptr(own)},
		"company without organisation": {Role: models.RoleCompany},
		"no role":                      {OrganisationID: ptr(own)},
		"unknown role":                 {Role: "superuser", OrganisationID: ptr(own)},
	}
	for name, u := range users {
		for _, org := range []uint{own, other} {
			want := u.MaySeeOrganisation(org)
			for what, got := range map[string]bool{
				"application": (&models.Application{LeadOrgID: org}).MaySee(u),
				"appeal":      (&models.Appeal{OrganisationID: org}).MaySee(u),
				"allocation":  (&models.Allocation{OrganisationID: org}).MaySee(u),
			} {
				if got != want {
					t.Errorf("%s, %s of organisation %d: MaySee %v, MaySeeOrganisation %v", name, what, org, got, want)
				}
			}
			scope, ok := u.OrganisationScope()
			if inScope := ok && (scope == nil || *scope == org); inScope != want {
				t.Errorf("%s: organisation %d in the list scope %v, MaySeeOrganisation %v", name, org, inScope, want)
			}
		}
	}
	if scope, ok := users["company"].OrganisationScope(); !ok || scope == nil || *scope != own {
		t.Errorf("a company user's scope: %v, %v; want their own organisation", scope, ok)
	}
	if scope, ok := users["auditor"].OrganisationScope(); !ok || scope != nil {
		t.Errorf("an auditor's scope: %v, %v; want every organisation", scope, ok)
	}
}
