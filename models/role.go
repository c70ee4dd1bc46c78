package models

// Role is what a signed-in user may do. Anonymous visitors have no role.
type Role string

// The portal's roles.
const (
	RoleAnonymous Role = ""
	RoleCompany   Role = "company"
	RoleReviewer  Role = "reviewer"
	RoleAuditor   Role = "auditor"
	RoleOfficer   Role = "officer"
	RoleAdmin     Role = "admin"
)

// Roles lists the roles a user can hold, least privileged first.
var Roles = []Role{RoleCompany, RoleAuditor, RoleOfficer, RoleAdmin}

// Valid reports whether r is a role a user can hold.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// rank orders roles by privilege, for picking one from several claims.
func (r Role) rank() int {
	for i, v := range Roles {
		if r == v {
			return i + 1
		}
	}
	return 0
}

// IsMinistry reports whether the role acts for the ministry (officer or admin).
func (r Role) IsMinistry() bool { return r == RoleOfficer || r == RoleAdmin }

// RoleFromClaims maps the values of the identity provider's role claim to a
// portal role through the configured map. When several values map, the most
// privileged role wins. ok is false when no value maps to a role.
func RoleFromClaims(values []string, roleMap map[string]string) (role Role, ok bool) {
	for _, v := range values {
		r := Role(roleMap[v])
		if r.Valid() && r.rank() > role.rank() {
			role = r
		}
	}
	return role, role.Valid()
}
