package models_test

import (
	"testing"

	"kaiportal/models"
)

func TestRoleFromClaims(t *testing.T) {
	t.Parallel()
	roleMap := map[string]string{
		"kai-company":  "company",
		"kai-auditor":  "auditor",
		"kai-officer":  "officer",
		"kai-admin":    "admin",
		"kai-typo":     "superuser", // maps to no portal role
		"kai-empty":    "",
		"kai-officer2": "officer",
		"kai-panel":    "reviewer",
	}
	tests := []struct {
		name    string
		values  []string
		roleMap map[string]string
		want    models.Role
		wantOK  bool
	}{
		{"no values", nil, roleMap, models.RoleAnonymous, false},
		{"empty values", []string{}, roleMap, models.RoleAnonymous, false},
		{"unmapped values", []string{"staff", "everyone"}, roleMap, models.RoleAnonymous, false},
		{"role name itself is not a claim value", []string{"admin"}, roleMap, models.RoleAnonymous, false},
		{"claim values are case-sensitive", []string{"KAI-ADMIN"}, roleMap, models.RoleAnonymous, false},
		{"nil map", []string{"kai-admin"}, nil, models.RoleAnonymous, false},
		{"one mapped: company", []string{"kai-company"}, roleMap, models.RoleCompany, true},
		{"one mapped: auditor", []string{"kai-auditor"}, roleMap, models.RoleAuditor, true},
		{"one mapped: officer", []string{"kai-officer"}, roleMap, models.RoleOfficer, true},
		{"one mapped: admin", []string{"kai-admin"}, roleMap, models.RoleAdmin, true},
		{"one mapped: reviewer", []string{"kai-panel"}, roleMap, models.RoleReviewer, true},
		{"several mapped: company wins over reviewer", []string{"kai-panel", "kai-company"}, roleMap, models.RoleCompany, true},
		{"several mapped: officer wins over reviewer", []string{"kai-officer", "kai-panel"}, roleMap, models.RoleOfficer, true},
		{"one mapped among unmapped", []string{"staff", "kai-auditor", "everyone"}, roleMap, models.RoleAuditor, true},
		{"several mapped: admin wins over company", []string{"kai-company", "kai-admin"}, roleMap, models.RoleAdmin, true},
		{"several mapped: order does not matter", []string{"kai-admin", "kai-company"}, roleMap, models.RoleAdmin, true},
		{"several mapped: officer wins over auditor", []string{"kai-auditor", "kai-officer", "kai-company"}, roleMap, models.RoleOfficer, true},
		{"several mapped: auditor wins over company", []string{"kai-company", "kai-auditor"}, roleMap, models.RoleAuditor, true},
		{"two values mapping to the same role", []string{"kai-officer", "kai-officer2"}, roleMap, models.RoleOfficer, true},
		{"map to invalid role ignored", []string{"kai-typo"}, roleMap, models.RoleAnonymous, false},
		{"map to empty role ignored", []string{"kai-empty"}, roleMap, models.RoleAnonymous, false},
		{"invalid role ignored beside a valid one", []string{"kai-typo", "kai-company", "kai-empty"}, roleMap, models.RoleCompany, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := models.RoleFromClaims(tt.values, tt.roleMap)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RoleFromClaims(%q) = (%q, %v), want (%q, %v)", tt.values, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRoleValidAndIsMinistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		role     models.Role
		valid    bool
		ministry bool
	}{
		{"anonymous", models.RoleAnonymous, false, false},
		{"company", models.RoleCompany, true, false},
		{"reviewer", models.RoleReviewer, true, false},
		{"auditor", models.RoleAuditor, true, false},
		{"officer", models.RoleOfficer, true, true},
		{"admin", models.RoleAdmin, true, true},
		{"unknown", models.Role("superuser"), false, false},
		{"wrong case", models.Role("Admin"), false, false},
		{"padded", models.Role(" admin"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.role.Valid(); got != tt.valid {
				t.Errorf("Role(%q).Valid() = %v, want %v", tt.role, got, tt.valid)
			}
			if got := tt.role.IsMinistry(); got != tt.ministry {
				t.Errorf("Role(%q).IsMinistry() = %v, want %v", tt.role, got, tt.ministry)
			}
		})
	}
}

func TestRolesLeastPrivilegedFirst(t *testing.T) {
	t.Parallel()
	want := []models.Role{models.RoleReviewer, models.RoleCompany, models.RoleAuditor, models.RoleOfficer, models.RoleAdmin}
	if len(models.Roles) != len(want) {
		t.Fatalf("Roles = %q, want %q", models.Roles, want)
	}
	for i := range want {
		if models.Roles[i] != want[i] {
			t.Fatalf("Roles = %q, want %q", models.Roles, want)
		}
	}
	// The order is what RoleFromClaims ranks by: each role beats every role before it.
	roleMap := map[string]string{}
	for _, r := range models.Roles {
		roleMap["g-"+string(r)] = string(r)
	}
	for i, hi := range models.Roles {
		for _, lo := range models.Roles[:i] {
			got, _ := models.RoleFromClaims([]string{"g-" + string(hi), "g-" + string(lo)}, roleMap)
			if got != hi {
				t.Errorf("RoleFromClaims(%s, %s) = %q, want %q", hi, lo, got, hi)
			}
		}
	}
}
