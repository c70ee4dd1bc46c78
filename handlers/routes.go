package handlers

import (
	"github.com/gin-gonic/gin"

	"kaiportal/models"
)

// Access says who may call a route.
type Access struct {
	Public bool          // anyone, signed in or not
	Roles  []models.Role // signed-in users with one of these roles; empty with !Public: any signed-in user
}

var (
	public   = Access{Public: true}
	signedIn = Access{}
)

func roles(r ...models.Role) Access { return Access{Roles: r} }

// Role sets used by the routes.
var (
	ministry     = []models.Role{models.RoleOfficer, models.RoleAdmin}
	programmeAll = []models.Role{models.RoleOfficer, models.RoleAdmin, models.RoleAuditor}
)

// Route is one entry of the route table.
type Route struct {
	Method string
	Path   string
	Access Access
	Handle gin.HandlerFunc
}

// routes is the whole route table: every path, its guard and its handler.
// The authorisation matrix test walks this list.
func (h *Handler) routes() []Route {
	return []Route{
		// Public pages and operations.
		{"GET", "/", public, h.showHomePage},
		{"GET", "/healthz", public, h.healthz},
		{"GET", "/readyz", public, h.readyz},
		{"GET", "/metrics", public, h.metricsHandler},
		{"GET", "/static/:hash/*path", public, h.serveStatic},
		{"POST", "/lang", public, h.switchLanguage},

		// Sign-in and sign-out.
		{"GET", "/auth/signin", public, h.showSignInPage},
		{"GET", "/auth/login", public, h.startOIDCLogin},
		{"GET", "/auth/callback", public, h.finishOIDCLogin},
		{"POST", "/auth/demo", public, h.demoSignIn},
		{"POST", "/auth/logout", signedIn, h.signOut},

		// Dashboards by role.
		{"GET", "/dashboard", signedIn, h.redirectToDashboard},
		{"GET", "/officer", roles(ministry...), h.showOfficerDashboard},
		{"GET", "/admin", roles(models.RoleAdmin), h.showAdminDashboard},
		{"GET", "/company", roles(models.RoleCompany), h.showCompanyDashboard},
		{"GET", "/auditor", roles(models.RoleAuditor), h.showAuditorDashboard},

		// Organisations: the ministry and auditors see all; a company only its own.
		{"GET", "/organisations", roles(programmeAll...), h.showOrganisationsPage},
		{"GET", "/organisations/:id", roles(append(programmeAll, models.RoleCompany)...), h.showOrganisationPage},

		// Audit trail.
		{"GET", "/audit", roles(programmeAll...), h.showAuditPage},
	}
}
