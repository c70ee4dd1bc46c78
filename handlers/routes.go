package handlers

import (
	"github.com/gin-gonic/gin"

	"kaiportal/models"
)

// Access says who may call a route.
type Access struct {
	Public bool          // anyone, signed in or not
	Roles  []models.Role // signed-in users with one of these roles; empty with !Public: any signed-in user
	// Upload: the route takes files (multipart/form-data). Every other route
	// refuses a multipart body with 415 before reading it; this one reads it
	// only once the guard and the CSRF check have passed.
	Upload bool
}

var (
	public   = Access{Public: true}
	signedIn = Access{}
)

func roles(r ...models.Role) Access { return Access{Roles: r} }

// uploads marks a route's Access as taking files.
func uploads(a Access) Access {
	a.Upload = true
	return a
}

// Role sets used by the routes.
var (
	ministry     = []models.Role{models.RoleOfficer, models.RoleAdmin}
	programmeAll = []models.Role{models.RoleOfficer, models.RoleAdmin, models.RoleAuditor}
	// Those who may be assigned reviews: the ministry and external
	// evaluators, who see nothing else of the programme.
	reviewing = []models.Role{models.RoleOfficer, models.RoleAdmin, models.RoleReviewer}
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
		{"GET", "/", public, h.cached(h.showHomePage)},
		{"GET", "/healthz", public, h.healthz},
		{"GET", "/readyz", public, h.readyz},
		{"GET", "/metrics", public, h.metricsHandler},
		{"GET", "/static/:hash/*path", public, h.serveStatic},
		{"POST", "/lang", public, h.switchLanguage},
		{"GET", "/privacy", public, h.showPrivacyPage},
		{"GET", "/accessibility", public, h.showAccessibilityPage},
		{"GET", "/help", public, h.showHelpPage},

		// Sign-in and sign-out.
		{"GET", "/auth/signin", public, h.showSignInPage},
		{"GET", "/auth/login", public, h.startOIDCLogin},
		{"GET", "/auth/callback", public, h.finishOIDCLogin},
		{"POST", "/auth/demo", public, h.demoSignIn},
		{"POST", "/auth/logout", signedIn, h.signOut},
		{"POST", "/auth/keepalive", signedIn, h.keepSessionAlive},

		// Notices: each signed-in user's own inbox and notification settings.
		{"GET", "/inbox", signedIn, h.showInbox},
		{"POST", "/inbox/read-all", signedIn, h.markAllRead},
		{"POST", "/inbox/:id/open", signedIn, h.openInboxMessage},
		{"GET", "/account/notifications", signedIn, h.showNoticePrefs},
		{"POST", "/account/notifications", signedIn, h.saveNoticePrefs},

		// Dashboards by role.
		{"GET", "/dashboard", signedIn, h.redirectToDashboard},
		{"GET", "/officer", roles(ministry...), h.cached(h.showOfficerDashboard)},
		{"GET", "/admin", roles(models.RoleAdmin), h.cached(h.showAdminDashboard)},
		{"GET", "/company", roles(models.RoleCompany), h.cached(h.showCompanyDashboard)},
		{"GET", "/auditor", roles(models.RoleAuditor), h.cached(h.showAuditorDashboard)},
		{"GET", "/company/gpu-month", roles(models.RoleCompany), h.showCompanyGPUMonth},
		{"GET", "/officer/telemetry", roles(ministry...), h.showOfficerTelemetry},

		// Organisations: the ministry and auditors see all; a company only its own.
		{"GET", "/organisations", roles(programmeAll...), h.showOrganisationsPage},
		{"GET", "/organisations/:id", roles(append(programmeAll, models.RoleCompany)...), h.showOrganisationPage},

		// Audit trail.
		{"GET", "/audit", roles(programmeAll...), h.showAuditPage},

		// Calls: public notices; officers create and edit them.
		{"GET", "/calls", public, h.cached(h.showCallsPage)},
		{"GET", "/calls/:id", public, h.cached(h.showCallPage)},
		{"GET", "/officer/calls/new", roles(ministry...), h.showNewCallPage},
		{"POST", "/officer/calls", roles(ministry...), h.createCall},
		{"GET", "/officer/calls/:id/edit", roles(ministry...), h.showEditCallPage},
		{"POST", "/officer/calls/:id", roles(ministry...), h.updateCall},

		// Applications: a company applies as the lead of a consortium.
		{"GET", "/company/applications", roles(models.RoleCompany), h.showMyApplicationsPage},
		{"GET", "/calls/:id/apply", roles(models.RoleCompany), h.showNewApplicationPage},
		{"POST", "/calls/:id/apply", roles(models.RoleCompany), h.createApplication},
		{"GET", "/applications/:id", roles(append(programmeAll, models.RoleCompany)...), h.showApplicationPage},
		{"POST", "/applications/:id", roles(models.RoleCompany), h.updateApplication},
		{"POST", "/applications/:id/members", roles(models.RoleCompany), h.addMember},
		{"POST", "/applications/:id/members/:mid/delete", roles(models.RoleCompany), h.removeMember},
		{"POST", "/applications/:id/documents", uploads(roles(models.RoleCompany)), h.uploadDocument},
		// An external evaluator downloads the documents of the applications assigned to them.
		{"GET", "/applications/:id/documents/:did", roles(append(programmeAll, models.RoleCompany, models.RoleReviewer)...), h.downloadDocument},
		{"POST", "/applications/:id/submit", roles(models.RoleCompany), h.submitApplication},
		{"POST", "/applications/:id/withdraw", roles(models.RoleCompany), h.withdrawApplication},

		// Consortia: the lead invites and files changes, the invited company
		// accepts or declines, officers decide a selected team's changes.
		{"GET", "/applications/:id/consortium", roles(append(programmeAll, models.RoleCompany)...), h.showConsortiumPage},
		{"POST", "/applications/:id/consortium", roles(models.RoleCompany), h.fileConsortiumRequest},
		{"POST", "/applications/:id/members/:mid", roles(models.RoleCompany), h.setMemberTerms},
		{"GET", "/company/consortium", roles(models.RoleCompany), h.showCompanyConsortiumPage},
		{"POST", "/consortium/requests/:rid/accept", roles(models.RoleCompany), h.answerInvitation(models.ReqAccept, "accepted")},
		{"POST", "/consortium/requests/:rid/decline", roles(models.RoleCompany), h.answerInvitation(models.ReqDecline, "declined")},
		{"POST", "/consortium/requests/:rid/withdraw", roles(models.RoleCompany), h.withdrawConsortiumRequest},
		{"GET", "/officer/consortia", roles(programmeAll...), h.showConsortiaPage},
		{"POST", "/officer/consortium/requests/:rid/approve", roles(ministry...), h.decideConsortiumRequest(models.ReqApprove)},
		{"POST", "/officer/consortium/requests/:rid/refuse", roles(ministry...), h.decideConsortiumRequest(models.ReqRefuse)},

		// Review and selection: officers assign reviewers (officers or external
		// evaluators), who declare conflicts and score; officers rank and publish.
		{"GET", "/officer/calls/:id/applications", roles(programmeAll...), h.showCallApplicationsPage},
		{"GET", "/officer/calls/:id/export", roles(programmeAll...), h.exportCallApplications},
		{"POST", "/applications/:id/reviewers", roles(ministry...), h.assignReviewer},
		{"GET", "/reviews", roles(reviewing...), h.showMyReviewsPage},
		{"GET", "/reviews/:aid", roles(reviewing...), h.showReviewPage},
		{"POST", "/reviews/:aid/conflict", roles(reviewing...), h.declareConflict},
		{"POST", "/reviews/:aid/scores", roles(reviewing...), h.saveScores},
		{"GET", "/officer/calls/:id/ranking", roles(ministry...), h.showRankingPage},
		{"POST", "/officer/calls/:id/decision", roles(ministry...), h.publishDecision},
		{"GET", "/officer/calls/:id/follow-up", roles(programmeAll...), h.showFollowUpPage},
		{"POST", "/officer/calls/:id/follow-up/:org", roles(ministry...), h.saveFollowUp},
		{"GET", "/company/follow-up", roles(models.RoleCompany), h.showCompanyFollowUpPage},

		// Published decisions, for everyone.
		{"GET", "/decisions", public, h.cached(h.showDecisionsPage)},
		{"GET", "/decisions/:id", public, h.cached(h.showDecisionPage)},

		// Appeals (이의신청): filed by an organisation a decision concerns, answered by officers.
		{"GET", "/decisions/:id/appeal", roles(models.RoleCompany), h.showNewAppealPage},
		{"POST", "/decisions/:id/appeal", uploads(roles(models.RoleCompany)), h.fileAppeal},
		{"GET", "/appeals", roles(append(programmeAll, models.RoleCompany)...), h.showAppealsPage},
		{"GET", "/appeals/:id", roles(append(programmeAll, models.RoleCompany)...), h.showAppealPage},
		{"GET", "/appeals/:id/evidence/:eid", roles(append(programmeAll, models.RoleCompany)...), h.downloadEvidence},
		{"POST", "/appeals/:id/review", roles(ministry...), h.startAppealReview},
		{"POST", "/appeals/:id/decide", roles(ministry...), h.decideAppeal},

		// Stage evaluations (단계평가): the public page of each stage; officers define stages, their
		// criteria sets, the opinion period, the freeze, evaluators, imported results and the decision;
		// teams send opinions and stage reports; evaluators (officers, external reviewers) score.
		{"GET", "/stages", public, h.cached(h.showStagesPage)},
		{"GET", "/stages/:id", public, h.cached(h.showStagePage)},
		{"GET", "/stages/:id/team", roles(models.RoleCompany), h.showStageTeamPage},
		{"POST", "/stages/:id/opinions", roles(models.RoleCompany), h.sendOpinion},
		{"POST", "/stages/:id/report", uploads(roles(models.RoleCompany)), h.submitStageReport},
		{"GET", "/stages/:id/reports/:rid/files/:fid", roles(append(programmeAll, models.RoleCompany, models.RoleReviewer)...), h.downloadStageReportFile},
		{"GET", "/officer/stages", roles(ministry...), h.showStagesAdminPage},
		{"POST", "/officer/stages", roles(ministry...), h.createStage},
		{"GET", "/officer/stages/:id", roles(ministry...), h.showStageAdminPage},
		{"POST", "/officer/stages/:id", roles(ministry...), h.updateStage},
		{"POST", "/officer/stages/:id/criteria", roles(ministry...), h.addCriterion},
		{"POST", "/officer/stages/:id/criteria/:cid/remove", roles(ministry...), h.removeCriterion},
		{"POST", "/officer/stages/:id/opinions", roles(ministry...), h.openOpinions},
		{"POST", "/officer/stages/:id/opinions/:oid/answer", roles(ministry...), h.answerOpinion},
		{"POST", "/officer/stages/:id/freeze", roles(ministry...), h.freezeStage},
		{"POST", "/officer/stages/:id/evaluators", roles(ministry...), h.assignStageEvaluator},
		{"POST", "/officer/stages/:id/results", uploads(roles(ministry...)), h.importStageResults},
		{"POST", "/officer/stages/:id/decision", roles(ministry...), h.publishStageDecision},
		{"GET", "/evaluations", roles(append(ministry, models.RoleReviewer)...), h.showEvaluationsPage},
		{"GET", "/evaluations/:id", roles(append(ministry, models.RoleReviewer)...), h.showEvaluationPage},
		{"POST", "/evaluations/:id/teams/:org/conflict", roles(append(ministry, models.RoleReviewer)...), h.declareStageConflict},
		{"POST", "/evaluations/:id/teams/:org/scores", roles(append(ministry, models.RoleReviewer)...), h.saveStageScores},

		// Agreements (협약): officers prepare and send versions, each party's authorised signer signs,
		// the ministry signs last; companies see their own, auditors read all.
		{"GET", "/agreements", roles(append(programmeAll, models.RoleCompany)...), h.showAgreementsPage},
		{"GET", "/agreements/:id", roles(append(programmeAll, models.RoleCompany)...), h.showAgreementPage},
		{"GET", "/agreements/:id/signatures", roles(append(programmeAll, models.RoleCompany)...), h.showSignatureRecordPage},
		{"GET", "/agreements/:id/versions/:vid/document", roles(append(programmeAll, models.RoleCompany)...), h.downloadAgreementDocument},
		{"POST", "/agreements/:id/versions/:vid/sign", roles(append(ministry, models.RoleCompany)...), h.signAgreement},
		{"GET", "/officer/agreements/new", roles(ministry...), h.showNewAgreementPage},
		{"POST", "/officer/agreements", uploads(roles(ministry...)), h.createAgreement},
		{"GET", "/officer/agreements/:id/versions/new", roles(ministry...), h.showNewVersionPage},
		{"POST", "/officer/agreements/:id/versions", uploads(roles(ministry...)), h.createVersion},
		{"GET", "/officer/agreements/:id/versions/:vid/edit", roles(ministry...), h.showEditVersionPage},
		{"POST", "/officer/agreements/:id/versions/:vid", uploads(roles(ministry...)), h.updateVersion},
		{"POST", "/officer/agreements/:id/versions/:vid/send", roles(ministry...), h.sendVersion},
		{"POST", "/officer/agreements/:id/notice", roles(ministry...), h.recordNotice},
		{"POST", "/officer/agreements/:id/terminate", roles(ministry...), h.terminateAgreement},
		{"GET", "/officer/signers", roles(ministry...), h.showSignersPage},
		{"POST", "/officer/signers", roles(ministry...), h.markSigner},
		{"POST", "/officer/signers/:uid/remove", roles(ministry...), h.unmarkSigner},

		// K-AI naming rights: the public registry and its verification API; officers grant and revoke.
		{"GET", "/k-ai", public, h.cached(h.showRegistryPage)},
		{"GET", "/api/v1/k-ai/verify", public, h.verifyName},
		{"GET", "/officer/naming", roles(ministry...), h.showNamingAdminPage},
		{"POST", "/officer/naming", roles(ministry...), h.grantName},
		{"POST", "/officer/naming/:gid/revoke", roles(ministry...), h.revokeName},

		// Users, their roles and live sessions (admins): end a user's sessions
		// at once (after a confirmation page), set a role in the portal.
		{"GET", "/admin/users", roles(models.RoleAdmin), h.showUsersPage},
		{"GET", "/admin/users/:id", roles(models.RoleAdmin), h.showUserPage},
		{"POST", "/admin/users/:id/role", roles(models.RoleAdmin), h.setUserRole},
		{"GET", "/admin/users/:id/end-sessions", roles(models.RoleAdmin), h.showEndSessionsPage},
		{"POST", "/admin/users/:id/end-sessions", roles(models.RoleAdmin), h.endUserSessionsNow},

		// One-off public holidays that move appeal deadlines (admins).
		{"GET", "/admin/holidays", roles(models.RoleAdmin), h.showHolidaysPage},
		{"POST", "/admin/holidays", roles(models.RoleAdmin), h.addHoliday},
		{"POST", "/admin/holidays/:hid/remove", roles(models.RoleAdmin), h.removeHoliday},
		// Official lists of a year's public holidays: imported, reviewed as a difference, confirmed.
		{"POST", "/admin/holidays/imports", uploads(roles(models.RoleAdmin)), h.importHolidayList},
		{"GET", "/admin/holidays/imports/:lid", roles(models.RoleAdmin), h.showHolidayListPage},
		{"POST", "/admin/holidays/imports/:lid/confirm", roles(models.RoleAdmin), h.confirmHolidayList},
		{"POST", "/admin/holidays/imports/:lid/discard", roles(models.RoleAdmin), h.discardHolidayList},

		// GPU clusters, allocations and telemetry: administrators register clusters,
		// officers allocate their GPUs, and the ministry, auditors and the team read the telemetry.
		{"GET", "/admin/clusters", roles(models.RoleAdmin), h.showClustersAdminPage},
		{"GET", "/admin/clusters/new", roles(models.RoleAdmin), h.showNewClusterPage},
		{"POST", "/admin/clusters", roles(models.RoleAdmin), h.createCluster},
		{"GET", "/admin/clusters/:id", roles(models.RoleAdmin), h.showEditClusterPage},
		{"POST", "/admin/clusters/:id", roles(models.RoleAdmin), h.updateCluster},
		{"GET", "/gpus/clusters", roles(programmeAll...), h.showClusterStatusPage},
		{"GET", "/gpus/clusters/:id", roles(programmeAll...), h.showClusterPage},
		{"GET", "/gpus/clusters/:id/downtime", roles(programmeAll...), h.showDowntimePage},
		{"POST", "/officer/clusters/:id/downtime", roles(ministry...), h.recordDowntime},
		{"POST", "/officer/clusters/:id/downtime/import", uploads(roles(ministry...)), h.importDowntime},
		{"GET", "/officer/allocations/new", roles(ministry...), h.showNewAllocationPage},
		{"POST", "/officer/allocations/new", roles(ministry...), h.createAllocation},
		{"GET", "/officer/allocations/:id/change", roles(ministry...), h.showAllocationChangePage},
		{"POST", "/officer/allocations/:id/period", roles(ministry...), h.changeAllocationPeriod},
		{"POST", "/officer/allocations/:id/end", roles(ministry...), h.endAllocation},
		{"POST", "/officer/allocations/:id/add", roles(ministry...), h.addAllocationGPUs},
		{"POST", "/officer/allocations/:id/replace", roles(ministry...), h.replaceAllocationGPU},
		{"GET", "/allocations", roles(append(programmeAll, models.RoleCompany)...), h.showAllocationsPage},
		{"GET", "/allocations/:id", roles(append(programmeAll, models.RoleCompany)...), h.showAllocationPage},
		{"GET", "/allocations/:id/series", roles(append(programmeAll, models.RoleCompany)...), h.allocationSeries},
		{"GET", "/gpus/usage", roles(programmeAll...), h.showProgrammeMonthPage},
		{"GET", "/gpus/usage/:org", roles(append(programmeAll, models.RoleCompany)...), h.showTeamMonthPage},
		{"GET", "/gpus/usage/:org/export", roles(append(programmeAll, models.RoleCompany)...), h.exportTeamMonth},

		// Usage reports: the team reports each allocation's month, the portal verifies it against the
		// telemetry, auditors sign it off or return it, officers set the tolerances.
		{"GET", "/company/usage-reports", roles(models.RoleCompany), h.showUsageReportsPage},
		{"GET", "/usage-reports/allocations/:id/:month", roles(models.RoleCompany), h.showUsageReportFormPage},
		{"POST", "/usage-reports/allocations/:id/:month", roles(models.RoleCompany), h.saveUsageReport},
		{"GET", "/usage-reports/:rid", roles(append(programmeAll, models.RoleCompany)...), h.showUsageReportPage},
		{"POST", "/usage-reports/:rid/verify", roles(append(programmeAll, models.RoleCompany)...), h.verifyUsageReport},
		{"POST", "/usage-reports/:rid/return", roles(models.RoleAuditor), h.returnUsageReport},
		{"POST", "/usage-reports/:rid/sign-off", roles(models.RoleAuditor), h.signOffUsageReport},
		{"GET", "/auditor/usage-reports", roles(programmeAll...), h.showReportQueuePage},
		{"GET", "/officer/invoices", roles(ministry...), h.showInvoicesPage},
		{"POST", "/officer/invoices", roles(ministry...), h.enterInvoice},
		{"POST", "/officer/invoices/import", uploads(roles(ministry...)), h.importInvoices},
		{"GET", "/invoices/:iid", roles(programmeAll...), h.showInvoicePage},
		{"POST", "/invoices/:iid/verify", roles(programmeAll...), h.verifyInvoice},
		{"POST", "/invoices/:iid/return", roles(models.RoleAuditor), h.returnInvoice},
		{"POST", "/invoices/:iid/sign-off", roles(models.RoleAuditor), h.signOffInvoice},
		{"GET", "/auditor/usage-summary", roles(programmeAll...), h.showUsageSummaryPage},
		{"GET", "/auditor/usage-summary/export", roles(programmeAll...), h.exportUsageSummary},
		{"GET", "/auditor/usage-export", roles(programmeAll...), h.exportVerifications},
		{"GET", "/officer/usage-settings", roles(ministry...), h.showUsageSettingsPage},
		{"POST", "/officer/usage-settings", roles(ministry...), h.saveUsageSettings},

		// Data support (데이터): demand surveys for the joint purchase, the teams' demand, purchases and
		// their deliveries, the copyright-clearance ledger. A team reads its own demand and deliveries.
		{"GET", "/data", roles(append(programmeAll, models.RoleCompany)...), h.showDataPage},
		{"POST", "/officer/data/surveys", roles(ministry...), h.openSurvey},
		{"GET", "/data/surveys/:id", roles(append(programmeAll, models.RoleCompany)...), h.showSurveyPage},
		{"POST", "/data/surveys/:id/demand", roles(models.RoleCompany), h.fileDemand},
		{"POST", "/officer/data/surveys/:id/purchases", roles(ministry...), h.recordPurchase},
		{"GET", "/data/purchases/:id", roles(append(programmeAll, models.RoleCompany)...), h.showPurchasePage},
		{"POST", "/data/purchases/:id/deliveries/:did", roles(ministry...), h.deliverPurchase},
		{"GET", "/data/sources", roles(programmeAll...), h.showSourcesPage},
		{"POST", "/officer/data/sources", roles(ministry...), h.recordSource},
		{"POST", "/officer/data/sources/:id", roles(ministry...), h.updateSource},
		{"GET", "/data/projects", roles(append(programmeAll, models.RoleCompany)...), h.showProjectsPage},
		{"POST", "/officer/data/projects", roles(ministry...), h.createProject},
		{"GET", "/data/projects/:id", roles(append(programmeAll, models.RoleCompany)...), h.showProjectPage},
		{"POST", "/officer/data/projects/:id", roles(ministry...), h.updateProject},

		// Talent support (인재): lines per team and half-year with evidence; a team reads its own.
		{"GET", "/talent", roles(append(programmeAll, models.RoleCompany)...), h.showTalentPage},
		{"POST", "/officer/talent", uploads(roles(ministry...)), h.recordTalent},
		{"GET", "/talent/:id/evidence", roles(append(programmeAll, models.RoleCompany)...), h.downloadTalentEvidence},

		// The support summary (data, talent, GPUs): per team (a team its own) and for the programme,
		// its exports, and the public page of aggregate figures.
		{"GET", "/support", roles(append(programmeAll, models.RoleCompany)...), h.showSupportPage},
		{"GET", "/support/export", roles(programmeAll...), h.exportSupport},
		{"GET", "/support/figures", public, h.showPublicSupportPage},
	}
}
